"""The data of every event the scheduler emits (shared/events/scheduler.py holds their schemas).

Clinic events are public (never the meeting link); registration events carry the link only to
someone it is meant for (seats.sees_meeting_link).
"""
from __future__ import annotations

from datetime import datetime

from shared.clock import iso

from services.scheduler.domain.seats import sees_meeting_link


def slot_data(slot: dict) -> dict:
    return {"slot_id": slot["slot_id"], "start": iso(slot["start"]), "minutes": slot["minutes"], "seats": slot["seats"]}


def clinic_data(clinic: dict, change: str) -> dict:
    """clinic-scheduled: created | updated | cancelled."""
    return {"clinic_id": clinic["_id"], "revision": clinic["revision"], "change": change, "kind": clinic["kind"],
            "title": clinic["title"], "description": clinic["description"], "topics": clinic["topics"],
            "sharers": clinic["sharers"], "slots": [slot_data(s) for s in clinic["slots"]],
            "language": clinic["language"], "interpretation": clinic["interpretation"],
            "region": clinic.get("region"), "theme": clinic.get("theme")}


def registration_data(clinic: dict, registration: dict, reason: str, position: int | None = None) -> dict:
    """clinic-registration-changed for one person."""
    slot = next(s for s in clinic["slots"] if s["slot_id"] == registration["slot_id"])
    return {"clinic_id": clinic["_id"], "slot_id": slot["slot_id"], "participant_id": registration["participant_id"],
            "status": registration["status"], "reason": reason, "position": position, "title": clinic["title"],
            "start": iso(slot["start"]), "minutes": slot["minutes"], "language": clinic["language"],
            "interpretation": registration.get("interpretation"),
            "meeting_url": clinic.get("meeting_url") if sees_meeting_link(clinic, registration["status"]) else None}


def invitation_data(clinic: dict, participant_id: str, reason: str) -> dict:
    return {"clinic_id": clinic["_id"], "participant_id": participant_id, "kind": clinic["kind"],
            "title": clinic["title"], "topics": clinic["topics"], "slots": [slot_data(s) for s in clinic["slots"]],
            "language": clinic["language"], "interpretation": clinic["interpretation"], "reason": reason}


def reminder_data(clinic: dict, slot: dict, participant_id: str, lead: str) -> dict:
    """clinic-reminder to a confirmed participant, and presenter-reminder to a presenter: with the link."""
    return {"clinic_id": clinic["_id"], "slot_id": slot["slot_id"], "participant_id": participant_id, "lead": lead,
            "title": clinic["title"], "start": iso(slot["start"]), "minutes": slot["minutes"],
            "language": clinic["language"], "meeting_url": clinic.get("meeting_url")}


def completed_data(clinic: dict, now: datetime) -> dict:
    """session-completed: `recording_consent` only when the recording may be published now."""
    recording = clinic.get("recording") or {}
    return {"clinic_id": clinic["_id"], "title": clinic["title"], "kind": clinic["kind"], "topics": clinic["topics"],
            "language": clinic["language"], "sharers": clinic["sharers"], "attendees": clinic["attendees"],
            "recording_url": clinic["recording_url"], "recording_consent": clinic["recording_consent"],
            "recording_consent_basis": recording.get("basis"), "recording_pending": recording.get("status") == "pending",
            "completed_at": iso(now)}


def feedback_data(record: dict) -> dict:
    return {"clinic_id": record["clinic_id"], "participant_id": record["participant_id"], "useful": record["useful"],
            "rating": record["rating"], "comment": record["comment"],
            "what_was_useful": record.get("what_was_useful", ""), "what_to_improve": record.get("what_to_improve", "")}


def presenter_data(clinic: dict, participant_id: str, change: str) -> dict:
    """presenter-scheduled to one sharer: the whole clinic, and the link unless it is off for them."""
    keeps_link = change in ("created", "updated") and clinic["status"] == "scheduled"
    return {"clinic_id": clinic["_id"], "participant_id": participant_id, "change": change,
            "revision": clinic["revision"], "kind": clinic["kind"], "title": clinic["title"],
            "description": clinic["description"], "topics": clinic["topics"],
            "slots": [slot_data(s) for s in clinic["slots"]], "language": clinic["language"],
            "interpretation": clinic["interpretation"],
            "meeting_url": clinic.get("meeting_url") if keeps_link else None}


def translation_request_data(request: dict) -> dict:
    """translation-requested (kind interpretation) for the translators of the request's language."""
    return {"request_id": request["_id"], "kind": "interpretation", "subject_kind": "clinic",
            "subject_id": request["clinic_id"], "language": request["language"],
            "source_language": request["source_language"], "title": request["title"], "url": None,
            "requested_by": "scheduler", "start": iso(request["start"]), "minutes": request["minutes"]}


def interpreter_data(request: dict, clinic: dict, interpreter: str, change: str) -> dict:
    """interpreter-scheduled: the link while the interpreter is confirmed at a clinic still ahead."""
    linked = change in ("confirmed", "updated") and clinic["status"] == "scheduled"
    return {"request_id": request["_id"], "clinic_id": clinic["_id"], "slot_id": request["slot_id"],
            "interpreter": interpreter, "change": change, "language": request["language"],
            "source_language": request["source_language"], "title": clinic["title"], "start": iso(request["start"]),
            "minutes": request["minutes"], "meeting_url": clinic.get("meeting_url") if linked else None}


def interpreter_reminder_data(request: dict, clinic: dict, lead: str) -> dict:
    return {"request_id": request["_id"], "clinic_id": clinic["_id"], "slot_id": request["slot_id"],
            "interpreter": request["interpreter"], "lead": lead, "title": clinic["title"],
            "start": iso(request["start"]), "minutes": request["minutes"], "language": clinic["language"],
            "source_language": request["source_language"], "interpretation": request["language"],
            "meeting_url": clinic.get("meeting_url")}


def missing_data(request: dict, reason: str, declined: int, attendees: int) -> dict:
    """interpretation-missing, for the program team."""
    return {"request_id": request["_id"], "clinic_id": request["clinic_id"], "slot_id": request["slot_id"],
            "language": request["language"], "title": request["title"], "start": iso(request["start"]),
            "minutes": request["minutes"], "reason": reason, "asked": request["asked"], "declined": declined,
            "attendees": attendees}


def unavailable_data(clinic: dict, request: dict, participant_id: str) -> dict:
    """interpretation-unavailable, to someone who chose that language for that slot."""
    return {"clinic_id": clinic["_id"], "slot_id": request["slot_id"], "participant_id": participant_id,
            "interpretation": request["language"], "language": clinic["language"], "title": clinic["title"],
            "start": iso(request["start"]), "minutes": request["minutes"]}


def recording_cleared_data(clinic: dict) -> dict:
    recording = clinic["recording"]
    return {"clinic_id": clinic["_id"], "title": clinic["title"], "kind": clinic["kind"], "topics": clinic["topics"],
            "language": clinic["language"], "recording_url": recording["url"],
            "recording_consent_basis": recording["basis"], "not_recorded": recording["not_recorded"],
            "confirmed_by": recording["confirmed_by"], "confirmed_at": iso(recording["confirmed_at"])}
