"""A clinic's completion (attendance) and who may give feedback (plain functions)."""
from __future__ import annotations

from datetime import datetime

from services.scheduler.domain.clinics import COMPLETED, check_status
from services.scheduler.domain.errors import Refused


def completion(clinic: dict, data: dict, confirmed: set[str], now: datetime) -> dict:
    """The changes completing a clinic makes: attendees must hold a confirmed seat or present."""
    check_status(clinic, "completed")
    attendees = list(dict.fromkeys(data["attendees"]))
    strangers = [pid for pid in attendees if pid not in confirmed and pid not in clinic["sharers"]]
    if strangers:
        raise Refused(f"not registered for this clinic: {', '.join(strangers[:10])}", 422, field="attendees")
    return {"status": COMPLETED, "attendees": attendees, "completed_at": now,
            "confirmed_attendees": [pid for pid in attendees if pid in confirmed],
            "confirmed_count": len(confirmed), "recording_url": data.get("recording_url"),
            "recording_consent": bool(data.get("recording_consent")), "revision": clinic["revision"] + 1}


def check_feedback(clinic: dict, participant_id: str, already_given: bool) -> None:
    """Only people who attended give feedback, once."""
    if clinic["status"] != COMPLETED or participant_id not in clinic.get("attendees", []):
        raise Refused("only people who attended this clinic can give feedback on it", 403)
    if already_given:
        raise Refused("feedback for this clinic was already given", 409)
