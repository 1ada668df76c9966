"""Which topic the next monthly clinic should take, with the reasons (plain functions).

A topic ranks higher the more learners want it and have no connection on it yet, when it is one of
the program's starter ("hot") topics, when sharers are free to present it, and the longer since the
last clinic on it. A topic without any sharer, or with a clinic already scheduled, sinks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
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

    learners: set[str] = field(default_factory=set)
    sharers: set[str] = field(default_factory=set)
    last_clinic: datetime | None = None   # latest clinic held or scheduled (not cancelled)
    next_clinic: datetime | None = None   # a scheduled clinic still ahead


def demand(people: list[dict], connected: set[tuple[str, str]]) -> dict[str, TopicDemand]:
    """Per topic, the learners still without a connection on it and the sharers, from people's
    `learn` / `share` lists and the (person, topic) pairs already connected."""
    topics: dict[str, TopicDemand] = {}
    for person in people:
        pid = person["_id"]
        for topic in person.get("learn", ()):
            if (pid, topic) not in connected:
                topics.setdefault(topic, TopicDemand()).learners.add(pid)
        for topic in person.get("share", ()):
            topics.setdefault(topic, TopicDemand()).sharers.add(pid)
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


def rank(topics: dict[str, TopicDemand], hot: set[str], presenting: set[str], now: datetime,
         limit: int = 10) -> list[dict]:
    ranked = []
    for code, entry in topics.items():
        waiting = len(entry.learners)
        free = len(entry.sharers - presenting)
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
