"""A sharer's open connections against their capacity: how many new ones a write may take (pure).

The store reserves them with a conditional update (`open` still at the value read), so two
writers never overbook; these functions decide how many to ask for and read back what was got.
"""
from __future__ import annotations


def capacity_of(load: dict | None, default: int) -> int:
    return (load or {}).get("capacity", default)


def has_room(load: dict | None, default: int) -> bool:
    return (load or {}).get("open", 0) < capacity_of(load, default)


def wanted(sharers: list[str]) -> dict[str, int]:
    """New connections asked for per sharer (one per entry)."""
    counts: dict[str, int] = {}
    for person in sharers:
        counts[person] = counts.get(person, 0) + 1
    return counts


def grant(asked: dict[str, int], loads: dict[str, dict], default: int) -> dict[str, int]:
    """New connections each sharer can still take (0 for a sharer without a load document: the
    store creates them before the transaction that reserves)."""
    granted = {}
    for person, count in asked.items():
        load = loads.get(person)
        granted[person] = 0 if load is None else max(0, min(count, capacity_of(load, default) - load.get("open", 0)))
    return granted


def confirmed(granted: dict[str, int], before: dict[str, dict], after: dict[str, int]) -> dict[str, int]:
    """The grants whose conditional raise went through (`open` moved by exactly the grant);
    the others raced with another writer and get nothing."""
    return {person: count if count and after.get(person) == before[person].get("open", 0) + count else 0
            for person, count in granted.items()}


def take(connections: list[dict], granted: dict[str, int]) -> list[dict]:
    """The connections that fit, in the order given (a sharer's first `granted` ones)."""
    left = dict(granted)
    taken = []
    for connection in connections:
        person = connection["sharer"]["participant_id"]
        if left.get(person, 0) > 0:
            left[person] -= 1
            taken.append(connection)
    return taken
