"""The contacts read model's rules (pure): what the notifier keeps of a participant, and which
event wins when several arrive out of order."""
from __future__ import annotations

from datetime import datetime


def contact_from_event(data: dict, now: datetime) -> dict:
    """What the notifier keeps of a participant-registered/-updated event: enough to write to
    them in their language and to know their interests, nothing more."""
    return {
        "_id": data["participant_id"], "revision": data["revision"], "email": data["email"], "name": data["name"],
        "languages": list(data["languages"]), "timezone": data["timezone"], "consent": dict(data["consent"]),
        "topics": sorted({interest["topic"] for interest in data.get("interests", [])}),
        "tokens_valid_after": data.get("tokens_valid_after"), "updated_at": now,
    }


def is_gone(held: dict | None) -> bool:
    """A participant who withdrew: their late events are ignored and nobody writes to them."""
    return bool(held and held.get("withdrawn"))


def replaces(held: dict | None, revision: int) -> bool:
    """An event's state replaces the held contact only when it is newer (revision order)."""
    return held is None or held.get("revision", 0) < revision


def tombstone(data: dict) -> dict:
    """What stays of a withdrawn participant: nothing personal, only enough to ignore late events."""
    return {"_id": data["participant_id"], "withdrawn": True, "revision": data["revision"],
            "withdrawn_at": data["withdrawn_at"]}
