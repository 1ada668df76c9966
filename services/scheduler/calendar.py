"""iCalendar feeds (icalendar library): one clinic, the public calendar, a participant's own feed.

Times are written in UTC (DTSTART ...Z), which every calendar app converts to the reader's zone;
with `tz` the feed is written in that zone instead, with its VTIMEZONE data. The meeting link is
written only into a participant's own feed.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vRecur

PRODID = "-//Wikimedia Let's Connect//scheduler//EN"
ALARM_BEFORE = timedelta(hours=1)


def slot_uid(clinic_id: str, slot_id: str) -> str:
    """The notifier's UID for the same slot, so mail attachments and feeds update one entry."""
    return f"clinic-{clinic_id}-slot-{slot_id}@letsconnect"


def new_calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _when(value: datetime, tz: ZoneInfo | None) -> datetime:
    value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value.astimezone(tz) if tz else value.astimezone(timezone.utc)


def _alarm(title: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Reminder: {title}")
    alarm.add("trigger", -ALARM_BEFORE)
    return alarm


def clinic_events(clinic: dict, stamp: datetime, *, tz: ZoneInfo | None = None, meeting_url: str | None = None,
                  slot_ids: set[str] | None = None, base_url: str = "") -> list[Event]:
    events = []
    for slot in clinic["slots"]:
        if slot_ids is not None and slot["slot_id"] not in slot_ids:
            continue
        event = Event()
        event.add("uid", slot_uid(clinic["_id"], slot["slot_id"]))
        event.add("dtstamp", stamp.astimezone(timezone.utc))
        event.add("dtstart", _when(slot["start"], tz))
        event.add("dtend", _when(slot["start"] + timedelta(minutes=slot["minutes"]), tz))
        event.add("summary", clinic["title"])
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
        event.add_component(_alarm(clinic["title"]))
        events.append(event)
    return events


def space_event(space: dict, stamp: datetime, tz: ZoneInfo | None = None) -> Event:
    event = Event()
    event.add("uid", f"space-{space['_id']}@letsconnect")
    event.add("dtstamp", stamp.astimezone(timezone.utc))
    event.add("dtstart", _when(space["start"], tz))
    event.add("dtend", _when(space["start"] + timedelta(minutes=space["minutes"]), tz))
    event.add("summary", space["title"])
    event.add("description", (space.get("description") or "").strip())
    event.add("categories", list(space["topics"]))
    event.add("url", space["link"])
    if space.get("rrule"):
        event.add("rrule", vRecur.from_ical(space["rrule"]))
    return event


def render(calendar: Calendar, events: list[Event], tz: ZoneInfo | None = None) -> bytes:
    for event in events:
        calendar.add_component(event)
    if tz is not None:
        calendar.add("x-wr-timezone", str(tz.key))
        calendar.add_missing_timezones()
    return calendar.to_ical()
