"""A clinic's life: a new clinic from a request, what an edit changes, which status allows what."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from services.scheduler.domain.errors import Refused

SCHEDULED, CANCELLED, COMPLETED = "scheduled", "cancelled", "completed"
EDITABLE = ("title", "description", "meeting_url")


def new_clinic(data: dict, now: datetime, new_id: Callable[[], str]) -> dict:
    """The clinic document for a valid request: slots in time order, each with the clinic's seats."""
    slots = [{"slot_id": new_id(), "start": s["start"], "minutes": s["minutes"], "seats": data["seats"]}
             for s in sorted(data["slots"], key=lambda s: s["start"])]
    return {"_id": new_id(), "kind": data["kind"], "title": data["title"], "description": data["description"],
            "topics": list(dict.fromkeys(data["topics"])), "sharers": list(dict.fromkeys(data["sharers"])),
            "slots": slots, "first_start": slots[0]["start"], "language": data["language"],
            "interpretation": list(dict.fromkeys(data["interpretation"])), "seats": data["seats"],
            "region": data.get("region"), "theme": data.get("theme"), "meeting_url": data.get("meeting_url"),
            "status": SCHEDULED, "revision": 1, "created_at": now, "updated_at": now}


def seat_counters(clinic: dict) -> list[dict]:
    """One counter per slot: seats offered, seats confirmed, arrivals (the waitlist's order)."""
    return [{"_id": s["slot_id"], "clinic_id": clinic["_id"], "seats": s["seats"], "confirmed": 0, "arrivals": 0}
            for s in clinic["slots"]]


def check_status(clinic: dict, action: str) -> None:
    """Only a scheduled clinic can be changed, cancelled or completed."""
    if clinic["status"] != SCHEDULED:
        raise Refused(f"a {clinic['status']} clinic cannot be {action}", 409)


def edit(clinic: dict, patch: dict, now: datetime) -> dict:
    """The changes an edit makes (title, description, link, slot times); slots stay in time order
    and cannot move into the past."""
    check_status(clinic, "changed")
    changes = {key: patch[key] for key in EDITABLE if key in patch}
    slots = [dict(s) for s in clinic["slots"]]
    for index, change in enumerate(patch.get("slots", [])):
        slot = next((s for s in slots if s["slot_id"] == change["slot_id"]), None)
        if slot is None:
            raise Refused(f"no slot {change['slot_id']!r} in this clinic", 422, field="slots")
        if change["start"] <= now:
            raise Refused("a slot cannot be moved into the past", 422, field="slots")
        slot.update(start=change["start"], minutes=change["minutes"])
    slots.sort(key=lambda s: s["start"])
    changes.update(slots=slots, first_start=slots[0]["start"], revision=clinic["revision"] + 1, updated_at=now)
    return changes


def cancellation(clinic: dict, now: datetime) -> dict:
    check_status(clinic, "cancelled")
    return {"status": CANCELLED, "revision": clinic["revision"] + 1, "updated_at": now}
