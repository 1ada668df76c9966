"""Sample event data for every template (the unit tests render each one)."""
from datetime import datetime, timedelta, timezone

def contact(pid, langs=("en",), name="Ahmed", email=None, share=True, public=True, topics=("budget-development",)):
    return {"_id": pid, "revision": 1, "email": email or f"{pid}@example.org", "name": name, "languages": list(langs),
            "timezone": "Africa/Cairo", "consent": {"public_profile": public, "share_contact": share, "recording": False},
            "topics": list(topics)}

T = "2026-11-24T10:00:00.000Z"
# A proposal's answer links stay valid until it expires: always ahead of the clock the tests run on.
PROPOSAL_EXPIRES = (datetime.now(timezone.utc) + timedelta(days=14)).strftime("%Y-%m-%dT%H:%M:%SZ")
match = {"match_id": "m1", "topic": "budget-development", "language": "ar", "reasons": ["same topic", "shared language: ar"],
         "participants": [{"participant_id": "p1", "role": "learner", "share_contact": True},
                          {"participant_id": "p2", "role": "sharer", "share_contact": True}], "expires_at": PROPOSAL_EXPIRES}
slot = {"slot_id": "s1", "start": "2026-12-10T14:00:00Z", "minutes": 90, "seats": 20}
reg = {"clinic_id": "c1", "slot_id": "s1", "participant_id": "p1", "status": "confirmed", "reason": "registered", "position": None,
       "title": "Budgets that tell a story", "start": "2026-12-10T14:00:00Z", "minutes": 90, "language": "en", "interpretation": "ar",
       "meeting_url": "https://meet.example.org/abc"}
EVENTS = {
 "sign_in": ("sign-in-requested", {"request_id": "sr1", "audience": "participant", "subject_id": "p1",
                                    "expires_at": "2026-11-24T10:30:00Z", "language": None}),
 "welcome": ("participant-registered", {"participant_id": "p1", "interests": [{"topic": "budget-development", "direction": "learn"}]}),
 "match_proposal": ("match-proposed", match),
 "match_introduction": ("match-confirmed", match),
 "match_declined": ("match-declined", {**match, "participant_id": "p2", "cause": "responded"}),
 "connection_confirm": ("connection-proposed", {**match, "origin": "self_made", "created_by": "p2"}),
 "connection_thanks": ("connection-completed", {**match, "summary": "good", "completed_at": T}),
 "clinic_invitation": ("clinic-invited", {"clinic_id": "c1", "participant_id": "p1", "kind": "monthly", "title": "Budgets that tell a story",
                       "topics": ["budget-development"], "slots": [slot, {**slot, "slot_id": "s2", "start": "2026-12-10T19:00:00Z"}],
                       "language": "en", "interpretation": ["ar", "fr"]}),
 "clinic_confirmed": ("clinic-registration-changed", reg),
 "clinic_waitlisted": ("clinic-registration-changed", {**reg, "status": "waitlisted", "position": 3}),
 "clinic_promoted": ("clinic-registration-changed", {**reg, "reason": "promoted"}),
 "clinic_changed": ("clinic-registration-changed", {**reg, "reason": "clinic_updated"}),
 "clinic_cancelled": ("clinic-registration-changed", {**reg, "status": "cancelled", "reason": "clinic_cancelled"}),
 "clinic_registration_cancelled": ("clinic-registration-changed", {**reg, "status": "cancelled", "reason": "cancelled_by_participant"}),
 "clinic_reminder": ("clinic-reminder", {"clinic_id": "c1", "slot_id": "s1", "participant_id": "p1", "lead": "24h", "title": "Budgets",
                     "start": "2026-12-10T14:00:00Z", "minutes": 90, "language": "en", "meeting_url": "https://meet.example.org/abc"}),
 "feedback_request": ("session-completed", {"clinic_id": "c1", "title": "Budgets", "topics": ["budget-development"], "language": "en",
                      "attendees": ["p1"], "recording_url": "https://commons.example.org/rec.webm", "recording_consent": True, "completed_at": T}),
 "resource_new": ("resource-published", {"resource_id": "r1", "title": "Budget guide", "description": "How to", "kind": "guideline",
                  "url": "https://meta.example.org/Budget", "language": "fr", "topics": ["budget-development"], "license": "CC-BY-SA-4.0", "published_at": T}),
 "resource_digest": ("resource-digest", {}),
 # the clinic team (issue 17)
 "presenter_scheduled": ("presenter-scheduled", {"clinic_id": "c1", "participant_id": "p1", "change": "created", "revision": 1,
                         "kind": "monthly", "title": "Budgets that tell a story", "description": "", "topics": ["budget-development"],
                         "slots": [slot, {**slot, "slot_id": "s2", "start": "2026-12-10T19:00:00Z"}], "language": "en",
                         "interpretation": ["ar", "fr"], "meeting_url": "https://meet.example.org/abc"}),
 "presenter_reminder": ("presenter-reminder", {"clinic_id": "c1", "slot_id": "s1", "participant_id": "p1", "lead": "1h",
                        "title": "Budgets", "start": "2026-12-10T14:00:00Z", "minutes": 90, "language": "en",
                        "meeting_url": "https://meet.example.org/abc"}),
 "interpreter_request": ("translation-requested", {"request_id": "ir1", "kind": "interpretation", "subject_kind": "clinic",
                         "subject_id": "c1", "language": "ar", "source_language": "en", "title": "Budgets", "url": None,
                         "requested_by": "scheduler", "start": "2026-12-10T14:00:00Z", "minutes": 90}),
 "interpreter_scheduled": ("interpreter-scheduled", {"request_id": "ir1", "clinic_id": "c1", "slot_id": "s1",
                           "interpreter": "tr-x", "change": "confirmed", "language": "ar", "source_language": "en",
                           "title": "Budgets", "start": "2026-12-10T14:00:00Z", "minutes": 90,
                           "meeting_url": "https://meet.example.org/abc"}),
 "interpreter_reminder": ("interpreter-reminder", {"request_id": "ir1", "clinic_id": "c1", "slot_id": "s1", "interpreter": "tr-x",
                          "lead": "24h", "title": "Budgets", "start": "2026-12-10T14:00:00Z", "minutes": 90, "language": "en",
                          "source_language": "en", "interpretation": "ar", "meeting_url": "https://meet.example.org/abc"}),
 "interpretation_missing": ("interpretation-missing", {"request_id": "ir2", "clinic_id": "c1", "slot_id": "s1", "language": "fr",
                            "title": "Budgets", "start": "2026-12-10T14:00:00Z", "minutes": 90, "reason": "all_declined",
                            "asked": 2, "declined": 2, "attendees": 3}),
 "interpretation_unavailable": ("interpretation-unavailable", {"clinic_id": "c1", "slot_id": "s1", "participant_id": "p1",
                                "interpretation": "fr", "language": "en", "title": "Budgets",
                                "start": "2026-12-10T14:00:00Z", "minutes": 90}),
 "translation_request": ("translation-requested", {"request_id": "tr1", "subject_kind": "resource", "subject_id": "r1", "language": "ar",
                         "source_language": "en", "title": "Budget guide", "url": "https://meta.example.org/Budget", "requested_by": "resources"}),
}
RESOURCES = [{"title": "Budget guide", "url": "https://meta.example.org/Budget", "language": "fr", "kind": "guideline", "topics": ["budget-development"]},
             {"title": "Deck", "url": "https://meta.example.org/Deck", "language": "ar", "kind": "deck", "topics": []}]

# templates written to an address rather than a registered person (translators, the program team)
ADDRESSED = ("translation_request", "interpreter_request", "interpreter_scheduled", "interpreter_reminder",
             "interpretation_missing")
