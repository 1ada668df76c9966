"""Hard rules a proposal never breaks (pure functions over plain data).

A candidate is a dict: participant_id, topic, direction, languages (in order of preference),
timezone, region, group {name, type}, registered_at.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

MAX_PEOPLE = 4
MAX_LEARNERS = MAX_PEOPLE - 1


def common_languages(a: dict, b: dict) -> list[str]:
    """Languages both speak, in the order of `a`'s preference."""
    theirs = set(b["languages"])
    return [lang for lang in a["languages"] if lang in theirs]


def group_key(candidate: dict) -> str | None:
    group = candidate.get("group")
    return " ".join(group["name"].casefold().split()) if group else None


def different_groups(a: dict, b: dict) -> bool:
    return group_key(a) is None or group_key(a) != group_key(b)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)  # ZoneInfo keeps only a few zones strongly; a round meets hundreds


@lru_cache(maxsize=65536)
def overlap(tz_a: str, tz_b: str, on: date, start_hour: int = 8, end_hour: int = 21) -> tuple[int, datetime | None,
                                                                                                 datetime | None]:
    """Longest overlap (minutes, start UTC, end UTC) of both people's local working days around `on`.

    Each side's local window is taken on the day before, the day of and the day after, so that
    a morning in Sydney meets the previous evening in Los Angeles; DST is zoneinfo's.
    """
    def windows(tz_name):
        zone = _zone(tz_name)
        for offset in (-1, 0, 1):
            day = on + timedelta(days=offset)
            start = datetime.combine(day, time(start_hour), zone).astimezone(timezone.utc)
            end = datetime.combine(day, time(end_hour), zone).astimezone(timezone.utc)
            yield start, end

    best = (0, None, None)
    for a_start, a_end in windows(tz_a):
        for b_start, b_end in windows(tz_b):
            start, end = max(a_start, b_start), min(a_end, b_end)
            minutes = int((end - start).total_seconds() // 60)
            if minutes > best[0]:
                best = (minutes, start, end)
    return best


def pair_key(a: str, b: str) -> str:
    return "|".join(sorted((a, b)))


def violation(learner: dict, sharer: dict, blocked_pairs: set[str], connected: set[tuple[str, str]],
              on: date, start_hour: int = 8, end_hour: int = 21, min_overlap: int = 60) -> str | None:
    """The first hard rule a learner-sharer pair breaks (a reason code), or None."""
    if learner["participant_id"] == sharer["participant_id"]:
        return "same_person"
    if learner["topic"] != sharer["topic"]:
        return "different_topic"
    if not common_languages(learner, sharer):
        return "no_common_language"
    if not different_groups(learner, sharer):
        return "same_group"
    if pair_key(learner["participant_id"], sharer["participant_id"]) in blocked_pairs:
        return "declined_before"
    if (pair_key(learner["participant_id"], sharer["participant_id"]), learner["topic"]) in connected:
        return "already_connected"
    minutes, _, _ = overlap(learner["timezone"], sharer["timezone"], on, start_hour, end_hour)
    if minutes < min_overlap:
        return "no_time_overlap"
    return None


def group_is_valid(sharer: dict, learners: list[dict], language: str) -> bool:
    """One sharer and up to three learners of the same topic, all speaking the connection's language."""
    return (1 <= len(learners) <= MAX_LEARNERS
            and all(l["topic"] == sharer["topic"] for l in learners)
            and language in sharer["languages"] and all(language in l["languages"] for l in learners)
            and len({l["participant_id"] for l in learners} | {sharer["participant_id"]}) == len(learners) + 1)
