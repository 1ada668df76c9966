"""Slot suggestion: the two start times that put the most interested people inside their local day.

Local times come from zoneinfo for the actual date, so daylight-saving changes and offsets such
as +05:45 (Kathmandu), -03:30 (St John's) or Lord Howe's half-hour DST are handled by the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import date, datetime, time, timedelta, timezone
from itertools import combinations
from zoneinfo import ZoneInfo

import numpy as np

DAY_STARTS = time(8, 0)
DAY_ENDS = time(21, 0)
STEP_MINUTES = 15  # quarter hours reach every real-world offset (+05:45, +12:45)


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    """ZoneInfo keeps only the last few zones strongly; reading a zone's file again for each of the
    96 candidate starts would cost more than the suggestion itself."""
    return ZoneInfo(name)


@dataclass(frozen=True)
class Suggestion:
    start: datetime
    count: int
    people: frozenset[str]


def fits(start: datetime, minutes: int, zone: str, day_starts: time = DAY_STARTS, day_ends: time = DAY_ENDS) -> bool:
    """True when the whole slot falls inside the person's local day (same local date)."""
    tz = _zone(zone)
    local_start = start.astimezone(tz)
    local_end = (start + timedelta(minutes=minutes)).astimezone(tz)
    if local_end.date() != local_start.date():
        return False
    return local_start.time() >= day_starts and local_end.time() <= day_ends


def fitting(zone: str, starts: list[datetime], minutes: int) -> frozenset[int]:
    """The indexes of the `starts` (one day's, in order) that suit someone in `zone` (as `fits`).
    A zone keeps one offset through almost every day: then the local times are simple sums; on a
    day its clocks change, each start is converted."""
    tz = _zone(zone)
    probes = (starts[0], starts[len(starts) // 2], starts[-1] + timedelta(minutes=minutes))
    offsets = {probe.astimezone(tz).utcoffset() for probe in probes}
    if len(offsets) != 1:
        return frozenset(i for i, start in enumerate(starts) if fits(start, minutes, zone))
    offset = offsets.pop()
    length = timedelta(minutes=minutes)
    found = []
    for index, start in enumerate(starts):
        local_start = (start + offset).replace(tzinfo=None)
        local_end = local_start + length
        if local_end.date() == local_start.date() and local_start.time() >= DAY_STARTS \
                and local_end.time() <= DAY_ENDS:
            found.append(index)
    return frozenset(found)


def candidates(day: date, step_minutes: int = STEP_MINUTES) -> list[datetime]:
    first = datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
    return [first + timedelta(minutes=m) for m in range(0, 24 * 60, step_minutes)]


@dataclass(frozen=True)
class Start:
    """A start time, the time zones it suits and how many people live in them."""

    start: datetime
    zones: frozenset[str]
    count: int


def best_starts(weights: dict[str, int], day: date, minutes: int = 90, how_many: int = 2,
                step_minutes: int = STEP_MINUTES) -> list[Start]:
    """`weights` maps an IANA time zone -> how many people live there. Up to `how_many` start times
    (UTC) chosen together to reach the most people in all, each with the count it suits; ties go to
    the pair whose slots each suit more people, then to the earlier time. Whether a slot suits
    someone depends only on their zone, so ten thousand people cost what a few hundred zones cost."""
    weights = {zone: count for zone, count in weights.items() if count > 0}
    if not weights:
        return []
    starts = candidates(day, step_minutes)
    suited = {zone: fitting(zone, starts, minutes) for zone in weights}
    reach: list[Start] = []
    for index, start in enumerate(starts):
        zones = frozenset(zone for zone in weights if index in suited[zone])
        reach.append(Start(start, zones, sum(weights[z] for z in zones)))
    useful = [r for r in reach if r.count] or reach
    size = min(how_many, len(useful))
    if size == 2:
        return list(_best_pair(useful, weights, minutes))
    best: tuple | None = None
    chosen: tuple[Start, ...] = ()
    for combo in combinations(useful, size):
        # Slots must not overlap, so one clinic can run twice with different audiences.
        if any(abs((a.start - b.start).total_seconds()) < minutes * 60 for a, b in combinations(combo, 2)):
            continue
        union = frozenset().union(*(s.zones for s in combo))
        key = (sum(weights[z] for z in union), sum(s.count for s in combo), [-s.start.timestamp() for s in combo])
        if best is None or key > best:
            best, chosen = key, combo
    return sorted(chosen, key=lambda s: s.start)


def _best_pair(useful: list[Start], weights: dict[str, int], minutes: int) -> tuple[Start, ...]:
    """The same choice as the general search for two starts, over every pair at once (numpy): the
    people both starts reach = each one's count minus those of the zones they share."""
    zones = sorted(weights)
    member = np.array([[zone in s.zones for zone in zones] for s in useful], dtype=float)
    weight = np.array([weights[zone] for zone in zones], dtype=float)
    counts = member @ weight
    shared = (member * weight) @ member.T
    union = counts[:, None] + counts[None, :] - shared
    total = counts[:, None] + counts[None, :]
    seconds = np.array([s.start.timestamp() for s in useful])
    allowed = np.triu(np.abs(seconds[:, None] - seconds[None, :]) >= minutes * 60, k=1)
    if not allowed.any():
        return ()
    union = np.where(allowed, union, -1)
    best = union.max()
    total = np.where(allowed & (union == best), total, -1)
    # ties: the most counted, then the earliest first start, then the earliest second (useful is in time order)
    first, second = np.argwhere(total == total.max())[0]
    return useful[first], useful[second]


def reached(weights: dict[str, int], starts: list[Start]) -> int:
    """People suited by at least one of the starts."""
    return sum(weights.get(zone, 0) for zone in frozenset().union(*(s.zones for s in starts))) if starts else 0


def suggest_slots(people: dict[str, str], day: date, minutes: int = 90, how_many: int = 2,
                  step_minutes: int = STEP_MINUTES) -> list[Suggestion]:
    """`people` maps participant id -> IANA time zone: best_starts, with the people each start suits."""
    by_zone: dict[str, list[str]] = {}
    for pid, zone in people.items():
        by_zone.setdefault(zone, []).append(pid)
    starts = best_starts({zone: len(pids) for zone, pids in by_zone.items()}, day, minutes, how_many, step_minutes)
    return [Suggestion(s.start, s.count, frozenset(pid for zone in s.zones for pid in by_zone[zone])) for s in starts]
