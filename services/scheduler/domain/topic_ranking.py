"""Which topic the next monthly clinic should take, with the reasons (plain functions).

A topic ranks higher the more learners want it and have no connection on it yet, when it is one of
the program's starter ("hot") topics, when sharers are free to present it, and the longer since the
last clinic on it. A topic without any sharer, or with a clinic already scheduled, sinks.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

HOT_BONUS = 10.0           # a starter topic counts like ten waiting learners
PER_SHARER = 3.0           # each sharer free to present (up to SHARERS_COUNTED)
SHARERS_COUNTED = 5
PER_MONTH_WITHOUT = 2.0    # each month since the last clinic on the topic (up to MONTHS_COUNTED)
MONTHS_COUNTED = 12
NO_SHARER_FACTOR = 0.5
ALREADY_SCHEDULED_FACTOR = 0.2


@dataclass
class TopicDemand:
    """What the read model knows about one topic."""

    waiting: int = 0                      # learners without a connection on it
    sharers: int = 0                      # people who can share it
    presenting: int = 0                   # of those, how many present at a clinic still ahead
    last_clinic: datetime | None = None   # latest clinic held or scheduled (not cancelled)
    next_clinic: datetime | None = None   # a scheduled clinic still ahead

    @property
    def free(self) -> int:
        return max(0, self.sharers - self.presenting)


def from_counters(counters: list[dict]) -> dict[str, TopicDemand]:
    """From the per-topic counters the service keeps (domain/demand.py)."""
    return {doc["_id"]: TopicDemand(waiting=max(0, doc.get("waiting", 0)), sharers=max(0, doc.get("sharers", 0)))
            for doc in counters}


def demand(people: list[dict]) -> dict[str, TopicDemand]:
    """The same figures straight from people (each with `learn`, `share`, `connected`): what the
    counters must always equal."""
    topics: dict[str, TopicDemand] = {}
    for person in people:
        connected = set(person.get("connected", []))
        for topic in set(person.get("learn", [])) - connected:
            topics.setdefault(topic, TopicDemand()).waiting += 1
        for topic in set(person.get("share", [])):
            topics.setdefault(topic, TopicDemand()).sharers += 1
    return topics


def add_clinics(topics: dict[str, TopicDemand], clinics: list[dict], now: datetime) -> set[str]:
    """Record each topic's last and next clinic; returns who presents at a clinic still ahead."""
    presenting: set[str] = set()
    for clinic in clinics:
        ahead = clinic["status"] == "scheduled" and clinic["first_start"] > now
        if ahead:
            presenting.update(clinic.get("sharers", []))
        for topic in clinic["topics"]:
            entry = topics.setdefault(topic, TopicDemand())
            if ahead:
                entry.next_clinic = min(filter(None, (entry.next_clinic, clinic["first_start"])))
            else:
                entry.last_clinic = max(filter(None, (entry.last_clinic, clinic["first_start"])))
    return presenting


def add_presenting(topics: dict[str, TopicDemand], presenters: list[dict]) -> None:
    """A sharer who presents at an upcoming clinic is not free to present another."""
    for person in presenters:
        for topic in set(person.get("share", [])):
            if topic in topics:
                topics[topic].presenting += 1


def rank(topics: dict[str, TopicDemand], hot: set[str], now: datetime, limit: int = 10) -> list[dict]:
    ranked = []
    for code, entry in topics.items():
        waiting = entry.waiting
        free = entry.free
        if not waiting and code not in hot:
            continue
        score = float(waiting)
        reasons = [f"{waiting} learner{'s' if waiting != 1 else ''} want{'s' if waiting == 1 else ''} this "
                   f"and {'has' if waiting == 1 else 'have'} no connection on it yet"]
        if code in hot:
            score += HOT_BONUS
            reasons.append("a starter topic of the program")
        if free:
            score += PER_SHARER * min(free, SHARERS_COUNTED)
            reasons.append(f"{free} sharer{'s' if free != 1 else ''} could present it")
        if entry.last_clinic is None:
            months = MONTHS_COUNTED
            reasons.append("no clinic on it yet")
        else:
            months = min(MONTHS_COUNTED, (now - entry.last_clinic).days // 30)
            reasons.append(f"last clinic on it {(now - entry.last_clinic).days} days ago")
        score += PER_MONTH_WITHOUT * months
        if not free:
            score *= NO_SHARER_FACTOR
            reasons.append("no sharer is free to present it yet: the working group would look for one")
        if entry.next_clinic is not None:
            score *= ALREADY_SCHEDULED_FACTOR
            reasons.append(f"a clinic on it is already scheduled for {entry.next_clinic.date().isoformat()}")
        ranked.append({"topic": code, "score": round(score, 2), "learners_waiting": waiting, "sharers_available": free,
                       "hot": code in hot, "last_clinic": entry.last_clinic.date().isoformat() if entry.last_clinic
                       else None, "next_clinic": entry.next_clinic.date().isoformat() if entry.next_clinic else None,
                       "reasons": reasons})
    return sorted(ranked, key=lambda row: (-row["score"], row["topic"]))[:limit]
