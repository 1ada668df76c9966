"""Who is not proposed to whom again: declines (for good), expiries and connections (for the
cooldown). Pure: match documents and block documents in, pairs out."""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.clock import as_utc

from services.matcher.domain.matches import sharer_of
from services.matcher.domain.rules import pair_key


def active(block_docs, now: datetime) -> set[str]:
    """The pair keys still blocked: declines have no end, expiries end after the cooldown."""
    return {doc["_id"] for doc in block_docs if doc.get("until") is None or as_utc(doc["until"]) > now}


def after_decline(match: dict, decliner: str) -> list[tuple[str, list[str]]]:
    """The pairs a decline blocks for good: a learner and the sharer, or the sharer and each learner."""
    sharer = sharer_of(match)
    others = ([m["id"] for m in match["participants"] if m["role"] == "learner"]
              if decliner == sharer else [sharer])
    return [(pair_key(decliner, other), [decliner, other]) for other in others]


def after_expiry(match: dict, existing: dict[str, dict], now: datetime,
                 cooldown_days: int) -> list[tuple[str, list[str], datetime]]:
    """The sharer-learner pairs of an expired proposal, blocked until the cooldown has passed
    (a decline's block, which has no end, stays as it is)."""
    sharer = sharer_of(match)
    until = now + timedelta(days=cooldown_days)
    pairs = []
    for person in match["participants"]:
        pair = pair_key(person["id"], sharer)
        if person["id"] != sharer and (existing.get(pair) is None or existing[pair].get("until") is not None):
            pairs.append((pair, [person["id"], sharer], until))
    return pairs


def after_connection(match: dict, now: datetime, cooldown_days: int) -> list[dict]:
    """The pairs (each member and the sharer) connected on this topic, until the cooldown has passed."""
    sharer = sharer_of(match)
    until = now + timedelta(days=cooldown_days)
    return [{"_id": f"{pair_key(m['id'], sharer)}:{match['topic']}", "pair": pair_key(m["id"], sharer),
             "people": [m["id"], sharer], "topic": match["topic"], "until": until}
            for m in match["participants"] if m["id"] != sharer]
