"""iCalendar feeds (icalendar library): one clinic, the public calendar, a participant's own feed,
and which clinics and spaces a filtered feed lists.

Times are written in UTC (DTSTART ...Z), which every calendar app converts to the reader's zone;
with `tz` the feed is written in that zone instead, with its VTIMEZONE data. The meeting link is
written only into a participant's own feed.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vRecur

from shared import calendars
from shared.calendars import slot_uid, timed_event

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
