"""iCalendar feeds (icalendar library): one clinic, the public calendar, a participant's own feed,
and which clinics and spaces a filtered feed lists.

Times are written in UTC (DTSTART ...Z), which every calendar app converts to the reader's zone;
with `tz` the feed is written in that zone instead, with its VTIMEZONE data. The meeting link is
written only into a participant's own feed.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, Iterable, TypeVar
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from shared import calendars
from shared.calendars import slot_uid, timed_event

from services.scheduler.domain.recurrence import RuleInvalid, check as check_rule

T = TypeVar("T")
FURTHEST_AHEAD = timedelta(days=5 * 366)  # nothing in the calendars is planned decades ahead
# A feed may be written in any zone (?tz=): a time must render in the furthest ones too.
PROBE_ZONES = (None, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Etc/GMT+12"))

ALARM_BEFORE = timedelta(hours=1)


def new_calendar(name: str) -> Calendar:
    return calendars.new_calendar("scheduler", name=name)


def clinic_events(clinic: dict, stamp: datetime, *, tz: ZoneInfo | None = None, meeting_url: str | None = None,
                  slot_ids: set[str] | None = None, base_url: str = "") -> list[Event]:
    events = []
    for slot in clinic["slots"]:
        if slot_ids is not None and slot["slot_id"] not in slot_ids:
            continue
        event = timed_event(slot_uid(clinic["_id"], slot["slot_id"]), title=clinic["title"], start=slot["start"],
                            minutes=slot["minutes"], stamp=stamp, tz=tz)
        languages = ", ".join([clinic["language"], *clinic.get("interpretation", [])])
        description = (clinic.get("description") or "").strip()
        event.add("description", f"{description}\n\nLanguages: {languages}".strip())
        event.add("categories", list(clinic["topics"]))
        event.add("status", "CANCELLED" if clinic["status"] == "cancelled" else "CONFIRMED")
        event.add("sequence", clinic.get("revision", 1))
        if base_url:
            event.add("url", f"{base_url}/clinics/{clinic['_id']}")
        if meeting_url:
            event.add("location", meeting_url)
        event.add_component(calendars.reminder(clinic["title"], ALARM_BEFORE))
        events.append(event)
    return events


def space_event(space: dict, stamp: datetime, tz: ZoneInfo | None = None) -> Event:
    event = timed_event(f"space-{space['_id']}@letsconnect", title=space["title"], start=space["start"],
                        minutes=space["minutes"], stamp=stamp, tz=tz)
    event.add("description", (space.get("description") or "").strip())
    event.add("categories", list(space["topics"]))
    event.add("url", space["link"])
    if space.get("rrule"):
        event.add("rrule", vRecur.from_ical(space["rrule"]))
    return event


render = calendars.finish


def feed_events(items: Iterable[T], build: Callable[[T], list[Event]]) -> tuple[list[Event], list[tuple[T, str]]]:
    """The events of every item that renders, and (item, why) for those that do not: one bad record
    leaves the feed (and is logged by the caller) instead of failing it."""
    events: list[Event] = []
    failed: list[tuple[T, str]] = []
    for item in items:
        try:
            built = build(item)
            for event in built:
                event.to_ical()
        except Exception as exc:  # whatever the record holds, the feed goes on without it
            failed.append((item, f"{type(exc).__name__}: {exc}"))
            continue
        events += built
    return events, failed


def render_problem(build: Callable[[ZoneInfo | None], list[Event]]) -> str | None:
    """Why the calendar cannot render these events (in UTC or the furthest zones), or None: the
    events are built and serialised as the feeds build and serialise them, when a record is written.
    (A feed written in a zone also carries that zone's VTIMEZONE, which depends on the zone only.)"""
    for tz in PROBE_ZONES:
        try:
            for event in build(tz):
                event.to_ical()
        except Exception as exc:  # any failure here is what a feed would have met
            return f"{type(exc).__name__}: {exc}"
    return None


def space_problems(space: dict, stamp: datetime) -> dict[str, list[str]]:
    """Field -> messages for a learning space the public calendar could not show."""
    rule = space.get("recurrence")
    if rule and not space.get("start"):
        return {"start": ["a recurring space needs its first meeting time"]}
    if rule:
        try:
            rule = check_rule(rule, space["start"])
        except RuleInvalid as exc:
            return {"recurrence": [str(exc)]}
    if not space.get("start"):
        return {}
    if space["start"] > stamp + FURTHEST_AHEAD:
        return {"start": ["the first meeting is more than five years ahead"]}
    probe = {"_id": "check", **space, "rrule": rule}
    problem = render_problem(lambda tz: [space_event(probe, stamp, tz)])
    if problem:
        return {"recurrence" if rule else "start": [f"the calendar cannot show this: {problem}"]}
    return {}


def slot_problem(slot: dict, stamp: datetime) -> str | None:
    """Why the calendar could not show this slot, or None."""
    probe = {"_id": "check", "title": "check", "description": "", "topics": [], "language": "en",
             "interpretation": [], "status": "scheduled", "revision": 1,
             "slots": [{"slot_id": "check", "start": slot["start"], "minutes": slot["minutes"], "seats": 1}]}
    return render_problem(lambda tz: clinic_events(probe, stamp, tz=tz))


def clinic_listed(clinic: dict, topic: str | None, language: str | None) -> bool:
    """A clinic in a feed filtered by topic and by language (its main or an interpretation language)."""
    if topic and topic not in clinic["topics"]:
        return False
    return not language or language in (clinic["language"], *clinic.get("interpretation", []))


def space_listed(space: dict, topic: str | None, language: str | None, now: datetime) -> bool:
    """A learning space in a feed: filtered like clinics; a one-off one only while it is ahead."""
    if topic and topic not in space["topics"]:
        return False
    if language and language not in space["languages"]:
        return False
    return bool(space.get("recurrence")) or space["start"] > now
