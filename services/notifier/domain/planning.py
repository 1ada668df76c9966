"""Who is told what about an event (pure: event data in, planned messages out)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from services.notifier.domain.preferences import category_of


STAFF_PREFIX = "staff:"


def staff_key(staff_id: str) -> str:
    """How a staff account is named among the contacts a message waits for."""
    return f"{STAFF_PREFIX}{staff_id}"


@dataclass(frozen=True)
class Planned:
    template: str
    participant_id: str | None = None  # a registered person (language, name, address from contacts)
    address: str | None = None         # someone outside the registry (a translator, the program team)
    languages: tuple[str, ...] = ()    # for an address: the languages to write in (default: the event's)
    staff_id: str | None = None        # a staff account (address from staff-account-changed)

    @property
    def recipient(self) -> str:
        if self.staff_id:
            return staff_key(self.staff_id)
        return self.participant_id or self.address or ""

    @property
    def category(self) -> str:
        return category_of(self.template)


def registration_template(status: str, reason: str) -> str:
    """The message for a clinic registration change (scheduler's status and reason)."""
    if status == "cancelled":
        return "clinic_cancelled" if reason == "clinic_cancelled" else "clinic_registration_cancelled"
    if reason == "clinic_updated":
        return "clinic_changed"
    if reason == "promoted":
        return "clinic_promoted"
    return "clinic_waitlisted" if status == "waitlisted" else "clinic_confirmed"


def _members(data: dict) -> list[str]:
    return [member["participant_id"] for member in data["participants"]]


def translators_for(language: str, translators: dict[str, tuple[str, ...]] | None) -> tuple[str, ...]:
    """The translators configured for a language (a regional variant falls back to its base)."""
    translators = translators or {}
    addresses = translators.get(language) or translators.get(language.split("-")[0]) or ()
    return tuple(dict.fromkeys(addresses))


# the clinic team's events (issue 17): template per event type; interpreters are addressed by the
# keyed hash the scheduler gives (shared.pseudonyms), resolved to their configured address here
PRESENTER_EVENTS = {"presenter-scheduled": "presenter_scheduled", "presenter-reminder": "presenter_reminder"}
INTERPRETER_EVENTS = {"interpreter-scheduled": "interpreter_scheduled", "interpreter-reminder": "interpreter_reminder"}
TEAM_LANGUAGES = ("en",)  # the program team's working language


def plan(event_type: str, data: dict, translators: dict[str, tuple[str, ...]] | None = None, *,
         interpreter_address: Callable[[str, str], str | None] | None = None,
         program_team: tuple[str, ...] = ()) -> list[Planned]:
    """The messages an event asks for. resource-published is fanned out by topic elsewhere.
    `interpreter_address(language, interpreter id)`: the configured address behind an interpreter's id;
    `program_team`: the addresses told when an interpreter is missing."""
    if event_type in PRESENTER_EVENTS:
        return [Planned(PRESENTER_EVENTS[event_type], data["participant_id"])]
    if event_type in INTERPRETER_EVENTS:
        language = data.get("interpretation") or data["language"]
        address = interpreter_address(language, data["interpreter"]) if interpreter_address else None
        return [Planned(INTERPRETER_EVENTS[event_type], address=address)] if address else []
    if event_type == "interpretation-missing":
        return [Planned("interpretation_missing", address=address, languages=TEAM_LANGUAGES)
                for address in dict.fromkeys(program_team)]
    if event_type == "interpretation-unavailable":
        return [Planned("interpretation_unavailable", data["participant_id"])]
    if event_type == "translation-requested" and data.get("kind") == "interpretation" \
            and data.get("subject_kind") == "clinic":
        # a clinic session's interpreter answers at the portal; other interpretation (a connection's
        # conversation, with no session time) joins the translators' queue like a translation
        return [Planned("interpreter_request", address=address)
                for address in translators_for(data["language"], translators)]
    if event_type == "participant-registered":
        return [Planned("welcome", data["participant_id"])]
    if event_type == "match-proposed":
        return [Planned("match_proposal", pid) for pid in _members(data)]
    if event_type == "match-joined":  # a learner joined an open connection: they answer for themselves
        return [Planned("match_proposal", data["participant_id"])]
    if event_type == "connection-proposed":  # a self-made connection: each other member confirms it
        return [Planned("connection_confirm", pid) for pid in _members(data) if pid != data["created_by"]]
    if event_type == "match-confirmed":
        return [Planned("match_introduction", pid) for pid in _members(data)]
    if event_type == "match-declined":
        # the person who declined knows; the others are told (everyone when it simply expired)
        decliner = data.get("participant_id") if data.get("cause", "responded") == "responded" else None
        return [Planned("match_declined", pid) for pid in _members(data) if pid != decliner]
    if event_type == "connection-completed":
        return [Planned("connection_thanks", pid) for pid in _members(data)]
    if event_type == "clinic-invited":
        return [Planned("clinic_invitation", data["participant_id"])]
    if event_type == "clinic-registration-changed":
        return [Planned(registration_template(data["status"], data["reason"]), data["participant_id"])]
    if event_type == "clinic-reminder":
        return [Planned("clinic_reminder", data["participant_id"])]
    if event_type == "session-completed":
        return [Planned("feedback_request", pid) for pid in dict.fromkeys(data["attendees"])]
    if event_type == "sign-in-requested":
        if data["audience"] == "staff":
            return [Planned("sign_in", staff_id=data["subject_id"])]
        return [Planned("sign_in", data["subject_id"])]
    if event_type == "translation-requested":
        return [Planned("translation_request", address=address)
                for address in translators_for(data["language"], translators)]
    return []
