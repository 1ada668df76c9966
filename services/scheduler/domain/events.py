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
    """clinic-reminder to a confirmed participant, with the link."""
    return {"clinic_id": clinic["_id"], "slot_id": slot["slot_id"], "participant_id": participant_id, "lead": lead,
            "title": clinic["title"], "start": iso(slot["start"]), "minutes": slot["minutes"],
            "language": clinic["language"], "meeting_url": clinic.get("meeting_url")}


def completed_data(clinic: dict, now: datetime) -> dict:
    """session-completed."""
    return {"clinic_id": clinic["_id"], "title": clinic["title"], "kind": clinic["kind"], "topics": clinic["topics"],
            "language": clinic["language"], "sharers": clinic["sharers"], "attendees": clinic["attendees"],
            "recording_url": clinic["recording_url"], "recording_consent": clinic["recording_consent"],
            "completed_at": iso(now)}


def feedback_data(record: dict) -> dict:
    return {"clinic_id": record["clinic_id"], "participant_id": record["participant_id"], "useful": record["useful"],
            "rating": record["rating"], "comment": record["comment"]}
