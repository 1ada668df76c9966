"""Which recurrence rules (RFC 5545 RRULE) a learning space may carry: those the public calendar
renders (icalendar, the library and code path of the feeds) and calendar apps can expand
(dateutil, which iCalendar clients mirror). Plain functions.

dateutil accepts rules that never occur (BYMONTH=13, the 30th of February) and then searches for an
occurrence until the year 9999, which takes seconds to minutes; so the rule's parts are checked
first, and only a rule that can occur is expanded to find its first occurrence.
"""
from __future__ import annotations

import calendar as months
import re
from datetime import date, datetime

from dateutil.rrule import rrulestr
from icalendar import vRecur

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
_SHAPE = re.compile(r"^[A-Z0-9=;,+\-]{1,300}$")
_DAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


class RuleInvalid(ValueError):
    """Why a rule is refused (the 422's message for `recurrence`)."""


def _ints(values, low: int, high: int, name: str) -> list[int]:
    numbers = []
    for value in values:
        number = int(value)
        if not (low <= number <= high) or number == 0:
            raise RuleInvalid(f"{name} must be between {low} and {high} (not 0)")
        numbers.append(number)
    return numbers


def _parts(rule: str) -> dict:
    if not _SHAPE.match(rule):
        raise RuleInvalid("write the rule on one line, e.g. FREQ=MONTHLY;BYDAY=2TU (no RRULE: prefix)")
    try:
        parsed = vRecur.from_ical(rule)
    except (ValueError, TypeError, KeyError) as exc:
        raise RuleInvalid(f"not a valid RRULE: {exc}") from exc
    unknown = set(parsed) - PARTS
    if unknown:
        raise RuleInvalid(f"not supported in a learning space's rule: {', '.join(sorted(unknown))}")
    return parsed


def check(rule: str, start: datetime) -> str:
    """The rule as the feeds will write it, or RuleInvalid saying why it is refused."""
    parts = _parts(rule)
    frequency = (parts.get("FREQ") or [None])[0]
    if frequency not in FREQUENCIES:
        raise RuleInvalid(f"FREQ must be one of {', '.join(FREQUENCIES)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleInvalid("give COUNT or UNTIL, not both")
    try:
        _ints(parts.get("INTERVAL", []), 1, 99, "INTERVAL")
        _ints(parts.get("COUNT", []), 1, 1000, "COUNT")
        month_list = _ints(parts.get("BYMONTH", []), 1, 12, "BYMONTH")
        day_list = _ints(parts.get("BYMONTHDAY", []), -31, 31, "BYMONTHDAY")
        _ints(parts.get("BYSETPOS", []), -5, 5, "BYSETPOS")
    except (TypeError, ValueError) as exc:
        raise RuleInvalid(str(exc)) from exc
    if (day_list or "BYSETPOS" in parts) and frequency not in ("MONTHLY", "YEARLY"):
        raise RuleInvalid("BYMONTHDAY and BYSETPOS need FREQ=MONTHLY or FREQ=YEARLY")
    if "BYSETPOS" in parts and "BYDAY" not in parts:
        raise RuleInvalid("BYSETPOS needs BYDAY")
    for weekday in parts.get("BYDAY", []):
        found = _DAY.match(str(weekday))
        if not found:
            raise RuleInvalid(f"BYDAY {weekday!r} is not a weekday such as MO or 2TU")
        if found.group(1):
            limit = {"MONTHLY": 5, "YEARLY": 53}.get(frequency)
            if limit is None:
                raise RuleInvalid("a numbered BYDAY (2TU) needs FREQ=MONTHLY or FREQ=YEARLY")
            _ints([found.group(1)], -limit, limit, "the BYDAY number")
    if day_list:
        longest = {month: months.monthrange(2024, month)[1] for month in (month_list or range(1, 13))}
        if not any(abs(day) <= length for day in day_list for length in longest.values()):
            raise RuleInvalid("BYMONTHDAY names a day that none of the months has")
    written = vRecur(parts).to_ical().decode("ascii")
    try:
        expanded = rrulestr(written, dtstart=start)
        first = next(iter(expanded), None)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RuleInvalid(f"not a valid RRULE: {exc}") from exc
    if first is None:
        raise RuleInvalid("this rule never occurs after the first meeting")
    return written


def ends_before(rule: str, day: date) -> bool:
    """True when an UNTIL in the rule lies before `day` (the space no longer meets). An unreadable
    rule (a record from before these checks) is left for the feed to skip when it renders."""
    try:
        until = _parts(rule).get("UNTIL")
    except RuleInvalid:
        return False
    if not until:
        return False
    last = until[0]
    return (last.date() if isinstance(last, datetime) else last) < day
