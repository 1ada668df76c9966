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
    the pair whose slots each suit more people, then to the earlier time."""
    reach: list[Suggestion] = []
    for start in candidates(day, step_minutes):
        suited = frozenset(pid for pid, zone in people.items() if fits(start, minutes, zone))
        reach.append(Suggestion(start, len(suited), suited))
    if not people:
        return []
    useful = [s for s in reach if s.count] or reach
    best: tuple | None = None
    chosen: tuple[Suggestion, ...] = ()
    size = min(how_many, len(useful))
    for combo in combinations(useful, size):
        union = frozenset().union(*(s.people for s in combo))
        # Slots must not overlap, so one clinic can run twice with different audiences.
        if any(abs((a.start - b.start).total_seconds()) < minutes * 60 for a, b in combinations(combo, 2)):
            continue
        key = (len(union), sum(s.count for s in combo), [-s.start.timestamp() for s in combo])
        if best is None or key > best:
            best, chosen = key, combo
    return sorted(chosen, key=lambda s: s.start)
