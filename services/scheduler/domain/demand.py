"""What each person adds to the counters the suggestions read (plain functions).

The suggestion endpoints answer from counters kept per topic and per region instead of reading
every person (10,000 people are a full scan on each request): each change to a person moves the
counters by the difference between what they added before and what they add now.

Per topic:  learners, learner_zones.<zone> (everyone who wants to learn it), waiting (those of them
            without a connection on it), sharers, sharer_zones.<zone>
Per region: people, zones.<zone>
"""
from __future__ import annotations

from collections import Counter

Key = tuple[str, str, str]  # (counter kind "topic" | "region", its key, the field to move)


def connected_topics(person: dict) -> set[str]:
    return set(person.get("connected", []))


def contribution(person: dict | None) -> Counter:
    """The counter fields one person adds (nothing for an unknown or erased person)."""
    added: Counter = Counter()
    if not person or person.get("withdrawn") or "languages" not in person:
        return added
    zone = person.get("timezone")
    connected = connected_topics(person)
    for topic in set(person.get("learn", [])):
        added[("topic", topic, "learners")] += 1
        if zone:
            added[("topic", topic, f"learner_zones.{zone}")] += 1
        if topic not in connected:
            added[("topic", topic, "waiting")] += 1
    for topic in set(person.get("share", [])):
        added[("topic", topic, "sharers")] += 1
        if zone:
            added[("topic", topic, f"sharer_zones.{zone}")] += 1
    if person.get("region"):
        added[("region", person["region"], "people")] += 1
        if zone:
            added[("region", person["region"], f"zones.{zone}")] += 1
    return added


def delta(before: dict | None, after: dict | None) -> dict[Key, int]:
    """How the counters move when a person changes from `before` to `after` (None: absent)."""
    moved = Counter(contribution(after))
    moved.subtract(contribution(before))
    return {key: amount for key, amount in moved.items() if amount}


def zone_weights(counters: dict, field: str) -> dict[str, int]:
    """{zone: people} from a counter document's `<field>` map (zeros left out)."""
    return {zone: count for zone, count in (counters.get(field) or {}).items() if count > 0}
