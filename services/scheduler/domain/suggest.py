"""Slot suggestion: the two start times that put the most interested people inside their local day.

Local times come from zoneinfo for the actual date, so daylight-saving changes and offsets such
as +05:45 (Kathmandu), -03:30 (St John's) or Lord Howe's half-hour DST are handled by the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from itertools import combinations
from zoneinfo import ZoneInfo

DAY_STARTS = time(8, 0)
DAY_ENDS = time(21, 0)
STEP_MINUTES = 15  # quarter hours reach every real-world offset (+05:45, +12:45)


@dataclass(frozen=True)
class Suggestion:
    start: datetime
    count: int
    people: frozenset[str]


def fits(start: datetime, minutes: int, zone: str, day_starts: time = DAY_STARTS, day_ends: time = DAY_ENDS) -> bool:
    """True when the whole slot falls inside the person's local day (same local date)."""
    tz = ZoneInfo(zone)
    local_start = start.astimezone(tz)
    local_end = (start + timedelta(minutes=minutes)).astimezone(tz)
    if local_end.date() != local_start.date():
        return False
    return local_start.time() >= day_starts and local_end.time() <= day_ends


def candidates(day: date, step_minutes: int = STEP_MINUTES) -> list[datetime]:
    first = datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
    return [first + timedelta(minutes=m) for m in range(0, 24 * 60, step_minutes)]


def suggest_slots(people: dict[str, str], day: date, minutes: int = 90, how_many: int = 2,
                  step_minutes: int = STEP_MINUTES) -> list[Suggestion]:
    """`people` maps participant id -> IANA time zone. Returns up to `how_many` start times (UTC)
    chosen together to reach the most people in all, each with the count it suits; ties go to
    the pair whose slots each suit more people, then to the earlier time.

    People are counted by time zone (whether a slot suits someone depends only on their zone), so
    ten thousand people cost what a few hundred zones cost."""
    if not people:
        return []
    by_zone: dict[str, list[str]] = {}
    for pid, zone in people.items():
        by_zone.setdefault(zone, []).append(pid)
    weight = {zone: len(pids) for zone, pids in by_zone.items()}
    reach: list[tuple[datetime, frozenset[str], int]] = []
    for start in candidates(day, step_minutes):
        zones = frozenset(zone for zone in by_zone if fits(start, minutes, zone))
        reach.append((start, zones, sum(weight[z] for z in zones)))
    useful = [r for r in reach if r[2]] or reach
    best: tuple | None = None
    chosen: tuple = ()
    size = min(how_many, len(useful))
    for combo in combinations(useful, size):
        # Slots must not overlap, so one clinic can run twice with different audiences.
        if any(abs((a[0] - b[0]).total_seconds()) < minutes * 60 for a, b in combinations(combo, 2)):
            continue
        union = frozenset().union(*(zones for _, zones, _ in combo))
        key = (sum(weight[z] for z in union), sum(count for _, _, count in combo), [-s.timestamp() for s, _, _ in combo])
        if best is None or key > best:
            best, chosen = key, combo
    return sorted((Suggestion(start, count, frozenset(pid for z in zones for pid in by_zone[z]))
                   for start, zones, count in chosen), key=lambda s: s.start)
