"""iCalendar building blocks (icalendar library) for the scheduler's feeds and the notifier's
attachments: one UID per clinic slot, so a mail attachment and a feed update the same entry."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event

from shared.clock import as_utc

STATUSES = {"confirmed": "CONFIRMED", "waitlisted": "TENTATIVE", "cancelled": "CANCELLED",
            "scheduled": "CONFIRMED", "completed": "CONFIRMED"}


def slot_uid(clinic_id: str, slot_id: str) -> str:
    """Stable per slot, so a change or a cancellation updates the entry people already have."""
    return f"clinic-{clinic_id}-slot-{slot_id}@letsconnect"


def new_calendar(producer: str, method: str = "PUBLISH", name: str | None = None) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", f"-//Wikimedia Let's Connect//{producer}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def reminder(title: str, before: timedelta) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"Reminder: {title}")
    alarm.add("trigger", -before)
    return alarm


def timed_event(uid: str, *, title: str, start: datetime | str, minutes: int, stamp: datetime | str,
                tz: ZoneInfo | None = None) -> Event:
    """A VEVENT with its times: in UTC (…Z, which every calendar converts to its reader's zone), or
    in `tz` when the feed is written in a zone (with its VTIMEZONE, see `finish`)."""
    begins = as_utc(start)
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", as_utc(stamp))
    event.add("dtstart", begins.astimezone(tz) if tz else begins)
    event.add("dtend", (begins + timedelta(minutes=int(minutes))).astimezone(tz) if tz
              else begins + timedelta(minutes=int(minutes)))
    event.add("summary", title)
    return event


def finish(calendar: Calendar, events: list[Event], tz: ZoneInfo | None = None) -> bytes:
    for event in events:
        calendar.add_component(event)
    if tz is not None:
        calendar.add("x-wr-timezone", str(tz.key))
        calendar.add_missing_timezones()
    return calendar.to_ical()
