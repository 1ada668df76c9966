"""The funding cycle's calendar (proposal and report deadlines, LC_SCHEDULER_FUNDING_CALENDAR) and
the quarterly clinic dates it suggests: a few weeks before each deadline, so groups can bring
their proposal or report to the clinic while there is still time to change it. Plain functions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("proposal", "report")
LEAD = timedelta(days=21)          # a clinic three weeks before the deadline
NOTICE = timedelta(days=14)        # not sooner than two weeks from today (invitations need time)
CLOSEST = timedelta(days=5)        # never later than five days before the deadline
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Deadline:
    kind: str                    # proposal | report
    label: str                   # e.g. "General Support Fund proposals"
    month_day: tuple[int, int] | None = None   # every year on this day (MM-DD) ...
    on: date | None = None                     # ... or once (YYYY-MM-DD)
    regions: tuple[str, ...] = ()              # empty: every region

    def dates(self, start: date, end: date) -> list[date]:
        if self.on is not None:
            return [self.on] if start <= self.on <= end else []
        found = []
        for year in range(start.year, end.year + 1):
            try:
                day = date(year, *self.month_day)
            except ValueError:  # 02-29 outside a leap year: the 28th
                day = date(year, self.month_day[0], 28)
            if start <= day <= end:
                found.append(day)
        return found


def parse(entries: list[dict]) -> list[Deadline]:
    """Deadlines from configuration: [{"kind", "date": "MM-DD" or "YYYY-MM-DD", "label", "regions"}].
    Raises ValueError naming the entry at fault."""
    deadlines = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("kind") not in KINDS or not isinstance(entry.get("label"), str):
            raise ValueError(f"entry {index}: needs kind (proposal|report), date and label")
        raw = str(entry.get("date", ""))
        regions = tuple(entry.get("regions") or ())
        matched = _MONTH_DAY.match(raw)
        try:
            if matched:
                month, day = int(matched.group(1)), int(matched.group(2))
                date(2000, month, day)  # a real day (2000 is a leap year)
                deadlines.append(Deadline(entry["kind"], entry["label"], month_day=(month, day), regions=regions))
            else:
                deadlines.append(Deadline(entry["kind"], entry["label"], on=date.fromisoformat(raw), regions=regions))
        except ValueError as exc:
            raise ValueError(f"entry {index}: date {raw!r} is neither MM-DD nor YYYY-MM-DD") from exc
    return deadlines


def upcoming(deadlines: list[Deadline], today: date, horizon: timedelta, region: str | None) -> list[tuple[date, Deadline]]:
    found = [(day, deadline) for deadline in deadlines if not deadline.regions or region in deadline.regions
             for day in deadline.dates(today, today + horizon)]
    return sorted(found, key=lambda item: (item[0], item[1].label))


def _weekday(day: date) -> date:
    """A weekend day moves back to the Friday before."""
    return day - timedelta(days=max(0, day.weekday() - 4))


def suggest_dates(deadlines: list[Deadline], today: date, region: str | None, covered: list[date],
                  horizon: timedelta = timedelta(days=365)) -> list[dict]:
    """A date before each upcoming deadline (LEAD before it, moved later when that is too soon, never
    closer than CLOSEST), skipping deadlines a quarterly clinic already prepares for (`covered`:
    dates of quarterly clinics for the same region or theme)."""
    suggestions = []
    for deadline_day, deadline in upcoming(deadlines, today, horizon, region):
        proposed = _weekday(max(deadline_day - LEAD, today + NOTICE))
        if proposed > deadline_day - CLOSEST or proposed < today + NOTICE:
            continue
        clinic = next((day for day in covered if deadline_day - LEAD - NOTICE <= day <= deadline_day), None)
        if clinic is not None:
            continue
        weeks = (deadline_day - proposed).days // 7
        before = f"{weeks} week{'s' if weeks != 1 else ''}" if weeks else f"{(deadline_day - proposed).days} days"
        suggestions.append({"date": proposed.isoformat(), "deadline": {"date": deadline_day.isoformat(),
                                                                      "kind": deadline.kind, "label": deadline.label},
                            "reasons": [f"{before} before the {deadline.kind} deadline: {deadline.label} "
                                        f"({deadline_day.isoformat()})"]})
    return suggestions
