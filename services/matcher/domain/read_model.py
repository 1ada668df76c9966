"""The matcher's copy of registry data: which copy of an interest counts (pure)."""
from __future__ import annotations

from services.matcher.domain.matches import interest_id

CANDIDATE_FIELDS = ("participant_id", "topic", "direction", "note", "level", "languages", "timezone", "region",
                    "group", "share_contact", "registered_at", "revision")


def is_older(existing: dict | None, revision: int) -> bool:
    """The registry re-announces every interest when its owner's attributes change, so an
    interest's own revision says which copy is newer; an older copy changes nothing."""
    return bool(existing) and existing.get("revision", 0) > revision


def candidate(data: dict) -> dict:
    """The read-model document of one skill-registered interest."""
    return {"_id": interest_id(data), **{k: data.get(k) for k in CANDIDATE_FIELDS}, "active": True}


def withdrawn_interest(data: dict) -> dict:
    return {"active": False, "revision": data["revision"], "participant_id": data["participant_id"],
            "topic": data["topic"], "direction": data["direction"]}


def role_of(direction: str) -> str:
    return "learner" if direction == "learn" else "sharer"
