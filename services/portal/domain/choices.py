"""The program's vocabularies as a person reads them: every code the APIs take, with its label.

Codes come from the registry's and the other services' schemas (shared.events.fields); labels
are message ids, translated in the page's language.
"""
from __future__ import annotations

from services.portal.domain import N_

REGIONS = {
    "mena": N_("Middle East and North Africa"),
    "ssa": N_("Sub-Saharan Africa"),
    "sa": N_("South Asia"),
    "esea": N_("East, Southeast Asia and the Pacific"),
    "ceeca": N_("Central and Eastern Europe and Central Asia"),
    "nwe": N_("Northern and Western Europe"),
    "lac": N_("Latin America and the Caribbean"),
    "usca": N_("United States and Canada"),
}

GROUP_TYPES = {
    "chapter": N_("Chapter"),
    "thematic_org": N_("Thematic organisation"),
    "user_group": N_("User group"),
    "unrecognized_group": N_("Group not (yet) recognised"),
}

ROLES = {
    "volunteer": N_("Volunteer"),
    "core_team": N_("Core team member"),
    "board": N_("Board member"),
    "staff": N_("Staff member"),
    "active_contributor": N_("Active contributor to the group's work"),
    "none": N_("No role in a group"),
}

PURPOSES = {
    "organising": N_("Organising: planning, events, evaluation, running our group"),
    "training_others": N_("Training others"),
    "own_editing": N_("Only my own editing"),
}

# What organisers do in their groups (free codes in the registry; these are the common ones).
ACTIVITIES = {
    "training": N_("Trainings and workshops"),
    "events": N_("Events and meetups"),
    "campaigns": N_("Campaigns and contests"),
    "edit-a-thons": N_("Edit-a-thons"),
    "partnerships": N_("Partnerships"),
    "grant-writing": N_("Grant proposals and reports"),
    "outreach": N_("Outreach and communication"),
    "education": N_("Education programs"),
    "governance": N_("Governance and administration"),
}

DIRECTIONS = {
    "learn": N_("Wants to learn"),
    "share": N_("Can share"),
}

RESOURCE_KINDS = {
    "recording": N_("Recording"),
    "deck": N_("Slides"),
    "guideline": N_("Guideline"),
    "document": N_("Document"),
    "reference": N_("Reference"),
    "case_study": N_("Case study"),
}

CLINIC_KINDS = {
    "monthly": N_("Monthly clinic on a hot topic"),
    "quarterly": N_("Quarterly clinic on proposals and reports"),
}

# The notifier's mail categories a person may stop (services/notifier/domain/preferences.py SKIPPABLE).
MAIL_CATEGORIES = {
    "matches": N_("Connection proposals"),
    "invitations": N_("Invitations to learning clinics"),
    "reminders": N_("Reminders before a clinic"),
    "feedback": N_("Requests for feedback"),
    "resources": N_("New resources on my topics"),
}
RESOURCE_MODES = {
    "digest": N_("One email a week with all the new resources"),
    "immediate": N_("One email for each new resource"),
}

MATCH_STATUSES = {
    "proposed": N_("Proposed: waiting for answers"),
    "confirmed": N_("Confirmed: you are connected"),
    "declined": N_("Declined"),
    "expired": N_("Expired: not everyone answered in time"),
    "completed": N_("Completed"),
}
SEAT_STATUSES = {
    "confirmed": N_("Seat confirmed"),
    "waitlisted": N_("On the waiting list"),
    "cancelled": N_("Cancelled"),
    "presenter": N_("You present this clinic"),
}
MATCH_ROLES = {"learner": N_("learner"), "sharer": N_("sharer")}
INTERPRETATION_STATUSES = {
    "requested": N_("interpreters asked, waiting for an answer"),
    "confirmed": N_("an interpreter is confirmed"),
    "missing": N_("no interpreter yet"),
    "cancelled": N_("cancelled"),
}
