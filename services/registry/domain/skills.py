"""Which skill events a profile change needs (pure): the matcher and scheduler keep read models."""
from __future__ import annotations

# Attributes of the owner that skill-registered carries: a change re-announces every interest.
OWNER_FIELDS = ("languages", "timezone", "region", "group")


def interest_key(interest: dict) -> tuple[str, str]:
    return interest["topic"], interest["direction"]


def _share_contact(profile: dict) -> bool:
    return bool(profile.get("consent", {}).get("share_contact"))


def skill_changes(before: dict, after: dict) -> tuple[list[dict], list[dict]]:
    """(interests to announce with skill-registered, interests to withdraw with skill-withdrawn)."""
    old = {interest_key(i): i for i in before.get("interests", [])}
    new = {interest_key(i): i for i in after.get("interests", [])}
    owner_changed = any(before.get(f) != after.get(f) for f in OWNER_FIELDS) or (
        _share_contact(before) != _share_contact(after))
    announce = [i for key, i in new.items() if owner_changed or old.get(key) != i]
    withdraw = [i for key, i in old.items() if key not in new]
    return announce, withdraw


def skill_registered(profile: dict, interest: dict) -> dict:
    return {
        "participant_id": profile["_id"], "revision": profile["revision"], "topic": interest["topic"],
        "direction": interest["direction"], "note": interest.get("note"), "level": interest.get("level"),
        "languages": profile["languages"], "timezone": profile["timezone"], "region": profile["region"],
        "group": profile["group"], "share_contact": _share_contact(profile),
        "registered_at": profile["registered_at"],
    }


def skill_withdrawn(profile: dict, interest: dict) -> dict:
    return {"participant_id": profile["_id"], "revision": profile["revision"], "topic": interest["topic"],
            "direction": interest["direction"]}


def participant_state(profile: dict) -> dict:
    """participant-registered / participant-updated data: the whole profile (with contact data)."""
    consent = profile["consent"]
    return {
        "participant_id": profile["_id"], "revision": profile["revision"], "username": profile["username"],
        "name": profile["name"], "email": profile["email"], "languages": profile["languages"],
        "timezone": profile["timezone"], "region": profile["region"], "group": profile["group"],
        "role": profile["role"], "purpose": profile["purpose"], "activities": profile.get("activities", []),
        "interests": [{"topic": i["topic"], "direction": i["direction"], "note": i.get("note"),
                       "level": i.get("level")} for i in profile["interests"]],
        "consent": {"public_profile": consent["public_profile"], "share_contact": consent["share_contact"],
                    "recording": consent["recording"]},
        "registered_at": profile["registered_at"], "tokens_valid_after": profile.get("tokens_valid_after"),
    }
