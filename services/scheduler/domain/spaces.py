"""Learning spaces (the movement's community calendar): a new space, an edit, and the spaces an
iCalendar file (the community calendar's export) describes, event by event. Plain functions.

Every space is checked as the public calendar would render it (calendar.space_problems) before it
is written, so a space that is stored can always be shown.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Callable
from urllib.parse import urlsplit

from icalendar import Calendar

from services.scheduler.domain.calendar import space_problems
from services.scheduler.domain.errors import Invalid
from services.scheduler.domain.recurrence import check as check_rule, ends_before

KINDS = ("community_of_practice", "periodic_meeting", "chat_group", "mentoring_program")
EDITABLE = ("kind", "title", "description", "topics", "languages", "region", "link", "start", "minutes", "recurrence")
MAX_EVENTS = 2000  # events per imported file
PROPERTY_FIELDS = {"DTSTART": "start", "DTEND": "minutes", "DURATION": "minutes", "RRULE": "recurrence",
                   "URL": "link", "SUMMARY": "title", "CATEGORIES": "topics"}


def new_space(data: dict, now: datetime, new_id: Callable[[], str]) -> dict:
    space = {"_id": new_id(), **data, "created_at": now, "updated_at": now}
    check(space, now)
    if space.get("recurrence"):
        space["recurrence"] = normalised_rule(space, now)
    return space


def edit(space: dict, patch: dict, now: datetime) -> dict:
    """The changes an edit makes; the edited space must still render."""
    changes = {key: patch[key] for key in EDITABLE if key in patch}
    edited = {**space, **changes}
    check(edited, now)
    if edited.get("recurrence"):
        changes["recurrence"] = normalised_rule(edited, now)
    changes["updated_at"] = now
    return changes


def check(space: dict, now: datetime) -> None:
    problems = space_problems(space, now)
    if problems:
        field_name, messages = next(iter(problems.items()))
        raise Invalid(field_name, messages, "the calendar could not show this space")


def normalised_rule(space: dict, now: datetime) -> str:
    return check_rule(space["recurrence"], space["start"])


# ----- import from an iCalendar file

class FileUnreadable(ValueError):
    """Not an iCalendar file (the whole import is refused, naming the file)."""


@dataclass
class ImportDefaults:
    """What an imported event takes when the file does not say (the import's query parameters)."""

    kind: str = "periodic_meeting"
    topics: tuple[str, ...] = ()
    languages: tuple[str, ...] = ("en",)
    region: str | None = None


@dataclass
class EventResult:
    index: int
    uid: str | None
    title: str | None
    space: dict | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        return self.space is not None and not self.errors


def read(payload: bytes) -> list:
    """The VEVENTs of an iCalendar file, or FileUnreadable."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileUnreadable("the file is not UTF-8 text") from exc
    if "BEGIN:VCALENDAR" not in text[:2000].upper():
        raise FileUnreadable("not an iCalendar file (no BEGIN:VCALENDAR)")
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise FileUnreadable(f"not a readable iCalendar file: {exc}") from exc
    events = [event for cal in calendars for event in cal.walk("VEVENT")]
    if len(events) > MAX_EVENTS:
        raise FileUnreadable(f"{len(events)} events; import at most {MAX_EVENTS} at a time")
    return events


def _text(event, name: str) -> str | None:
    value = event.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0]
    return str(value)


def _clean(text: str, keep_newlines: bool) -> str:
    allowed = "\n\t" if keep_newlines else ""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in allowed).strip()


def _link(event) -> str | None:
    for name in ("URL", "LOCATION"):
        candidate = (_text(event, name) or "").strip()
        parts = urlsplit(candidate)
        if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(ch in candidate for ch in
                                                                                   "\r\n\t<>\" "):
            return candidate
    return None


def categories(event) -> list[str]:
    found = []
    values = event.get("CATEGORIES")
    for value in values if isinstance(values, list) else [values] if values is not None else []:
        for category in getattr(value, "cats", [value]):
            found.append(str(category).strip())
    return [c for c in found if c]


def _start_and_minutes(event, errors: dict) -> tuple[datetime | None, int]:
    minutes = 60
    try:
        start = event.decoded("DTSTART") if event.get("DTSTART") is not None else None
    except (ValueError, TypeError, KeyError) as exc:
        errors["start"] = [f"DTSTART unreadable: {exc}"]
        return None, minutes
    if start is None:
        errors["start"] = ["no DTSTART: a learning space in the calendar needs its first meeting time"]
        return None, minutes
    if isinstance(start, date) and not isinstance(start, datetime):
        errors["start"] = ["an all-day event has no meeting time; add one to import it"]
        return None, minutes
    if not isinstance(start, datetime):
        errors["start"] = [f"DTSTART unreadable: {start!r}"]
        return None, minutes
    if start.tzinfo is None:
        errors["start"] = ["a floating time (no time zone): give DTSTART in UTC (…Z) or with a TZID"]
        return None, minutes
    if not (datetime(1970, 1, 1, tzinfo=timezone.utc) <= start <= datetime(2999, 12, 31, tzinfo=timezone.utc)):
        errors["start"] = ["DTSTART must be between 1970 and 2999"]
        return None, minutes
    start = start.astimezone(timezone.utc)
    try:
        if event.get("DTEND") is not None:
            end = event.decoded("DTEND")
            minutes = int((end - start).total_seconds() // 60) if isinstance(end, datetime) else 0
        elif event.get("DURATION") is not None:
            minutes = int(event.decoded("DURATION").total_seconds() // 60)
    except (ValueError, TypeError, OverflowError) as exc:
        errors["minutes"] = [f"DTEND or DURATION unreadable: {exc}"]
    if "minutes" not in errors and not (1 <= minutes <= 600):
        errors["minutes"] = ["a meeting lasts between 1 and 600 minutes (DTEND or DURATION)"]
    return start, minutes


def from_event(index: int, event, defaults: ImportDefaults, known_topic: Callable[[str], bool],
               now: datetime) -> EventResult:
    """The space one VEVENT describes, or the reasons it cannot be imported (by field)."""
    uid = _text(event, "UID")
    title = _clean(_text(event, "SUMMARY") or "", keep_newlines=False)
    result = EventResult(index, uid, title or None)
    if event.get("RECURRENCE-ID") is not None:
        result.skipped = "a changed occurrence of a recurring event (the series itself is imported)"
        return result
    if (_text(event, "STATUS") or "").upper() == "CANCELLED":
        result.skipped = "cancelled in the calendar"
        return result
    errors: dict[str, list[str]] = {}
    for name, problem in getattr(event, "errors", []) or []:
        errors.setdefault(PROPERTY_FIELDS.get(str(name).upper(), "event"), []).append(f"{name}: {problem}")
    if errors:  # a property icalendar could not read: say so, and nothing more about this event
        result.errors = errors
        return result
    if not (3 <= len(title) <= 200):
        errors["title"] = ["SUMMARY must be 3 to 200 characters"]
    description = _clean(_text(event, "DESCRIPTION") or "", keep_newlines=True)[:5000]
    start, minutes = _start_and_minutes(event, errors)
    link = _link(event)
    if link is None:
        errors["link"] = ["no http(s) link in URL or LOCATION"]
    topics = [c for c in categories(event) if known_topic(c)] or list(defaults.topics)
    if not topics:
        errors["topics"] = ["no CATEGORIES that are topic codes, and no default topic given (?topic=)"]
    rule = None
    if event.get("RRULE") is not None:
        rule = event["RRULE"].to_ical().decode("ascii", "replace") if hasattr(event["RRULE"], "to_ical") \
            else str(event["RRULE"])
    space = {"kind": defaults.kind, "title": title, "description": description, "topics": topics[:10],
             "languages": list(defaults.languages), "region": defaults.region, "link": link, "start": start,
             "minutes": minutes, "recurrence": rule, "source_uid": source_uid(uid, title, start)}
    if not errors:
        problems = space_problems(space, now)
        errors.update(problems)
        if not problems and rule:
            space["recurrence"] = normalised_rule(space, now)
    result.errors = errors
    result.space = None if errors else space
    return result


def source_uid(uid: str | None, title: str, start: datetime | None) -> str:
    """The key an imported space keeps, so importing the same file again updates instead of
    duplicating: the event's UID, or (without one) a digest of its title and start."""
    if uid and len(uid) <= 300:
        return uid
    basis = f"{uid or ''}|{title}|{start.isoformat() if start else ''}"
    return "sha256:" + hashlib.sha256(basis.encode("utf-8")).hexdigest()


def result_view(result: EventResult, status: str, space_id: str | None = None) -> dict:
    view = {"index": result.index, "uid": result.uid, "title": result.title, "status": status}
    if space_id:
        view["id"] = space_id
    if result.errors:
        view["errors"] = result.errors
    if result.skipped:
        view["reason"] = result.skipped
    return view


def on_topics(space: dict, topics: set[str], today: date) -> bool:
    """A space belongs in a person's feed when it is on one of their topics and still meets."""
    if not space.get("start") or not set(space["topics"]) & topics:
        return False
    if space.get("recurrence"):
        return not ends_before(space["recurrence"], today)
    return space["start"].date() >= today - timedelta(days=1)
