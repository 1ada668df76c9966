"""What each reader sees of a clinic, a registration and a learning space (plain functions)."""
from __future__ import annotations

from shared.clock import iso

from services.scheduler.domain.seats import sees_meeting_link

SPACE_FIELDS = ("kind", "title", "description", "topics", "languages", "region", "link", "minutes", "recurrence")


def clinic_view(clinic: dict, counts: dict | None = None) -> dict:
    """The public view: never the meeting link (only whether there is one)."""
    slots = []
    for slot in clinic["slots"]:
        view = {"id": slot["slot_id"], "start": iso(slot["start"]), "minutes": slot["minutes"], "seats": slot["seats"]}
        if counts is not None and slot["slot_id"] in counts:
            view["seats_left"] = max(0, slot["seats"] - counts[slot["slot_id"]]["confirmed"])
        slots.append(view)
    return {"id": clinic["_id"], "kind": clinic["kind"], "title": clinic["title"], "description": clinic["description"],
            "topics": clinic["topics"], "sharers": clinic["sharers"], "slots": slots, "language": clinic["language"],
            "interpretation": clinic["interpretation"], "seats": clinic["seats"], "region": clinic.get("region"),
            "theme": clinic.get("theme"), "status": clinic["status"], "revision": clinic["revision"],
            "has_meeting_link": bool(clinic.get("meeting_url"))}


def completed_view(clinic: dict) -> dict:
    """Staff's view of a completed clinic: attendance and the recording."""
    return {**clinic_view(clinic), "attendees": clinic["attendees"], "recording_url": clinic["recording_url"],
            "recording_consent": clinic["recording_consent"]}


def registration_view(clinic: dict, registration: dict, position: int | None) -> dict:
    """The person's own registration (or staff's look at it): the link only while confirmed."""
    return {"clinic": clinic["_id"], "participant": registration["participant_id"], "slot": registration["slot_id"],
            "status": registration["status"], "position": position,
            "interpretation": registration.get("interpretation"),
            "meeting_url": clinic.get("meeting_url") if sees_meeting_link(clinic, registration["status"]) else None}


def registration_row(registration: dict, position: int | None) -> dict:
    """One line of staff's list of everyone registered."""
    return {"participant": registration["participant_id"], "slot": registration["slot_id"],
            "status": registration["status"], "interpretation": registration.get("interpretation"),
            "position": position}


def space_view(space: dict) -> dict:
    return {"id": space["_id"], **{key: space.get(key) for key in SPACE_FIELDS},
            "start": iso(space["start"]) if space.get("start") else None}
