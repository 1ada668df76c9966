"""The scheduler's read model of people, from registry events (plain functions).

Participant events carry the whole person and a `revision`; an event older than what is held is
ignored, so the order events arrive in across topics does not matter. An erased person leaves a
tombstone that keeps later stale events out.
"""
from __future__ import annotations


def is_stale(held: dict | None, revision: int) -> bool:
    """True when the event is older than the state held, or the person was erased."""
    if held is None:
        return False
    return revision < held.get("revision", 0) or bool(held.get("withdrawn"))


def from_participant(data: dict) -> dict:
    """The person as participant-registered / participant-updated describe them."""
    return {"_id": data["participant_id"], "revision": data["revision"], "languages": data["languages"],
            "timezone": data["timezone"], "region": data["region"], "group": data.get("group"),
            "learn": sorted({i["topic"] for i in data["interests"] if i["direction"] == "learn"}),
            "share": sorted({i["topic"] for i in data["interests"] if i["direction"] == "share"}),
            "tokens_valid_after": data.get("tokens_valid_after")}


def with_skill(held: dict | None, data: dict) -> dict:
    """The person after skill-registered (which also carries languages, zone, region and group)."""
    held = held or {"_id": data["participant_id"], "revision": 0}
    field = data["direction"]
    person = {**held, "revision": data["revision"], "languages": data["languages"], "timezone": data["timezone"],
              "region": data["region"], "group": data.get("group"),
              field: sorted(set(held.get(field, [])) | {data["topic"]})}
    person.setdefault("learn", [])
    person.setdefault("share", [])
    return person


def without_skill(held: dict, data: dict) -> dict | None:
    """The fields skill-withdrawn changes, or None when nothing is known of the person yet."""
    if "languages" not in held:
        return None
    field = data["direction"]
    return {"revision": data["revision"], field: [t for t in held.get(field, []) if t != data["topic"]]}


def tombstone(participant_id: str, revision: int) -> dict:
    return {"_id": participant_id, "revision": max(revision, 1), "withdrawn": True}
