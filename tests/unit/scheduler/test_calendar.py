"""Calendar output parses with icalendar and keeps local times right."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from icalendar import Calendar

from services.scheduler.domain import calendar

STAMP = datetime(2026, 10, 1, tzinfo=timezone.utc)
CLINIC = {"_id": "c1", "title": "Reporting clinic", "description": "Stories", "topics": ["reporting-storytelling"],
          "language": "en", "interpretation": ["ar"], "status": "scheduled", "revision": 2,
          "slots": [{"slot_id": "s1", "start": datetime(2026, 10, 24, 23, 30, tzinfo=timezone.utc), "minutes": 90}]}


def parse(events, tz=None):
    return Calendar.from_ical(calendar.render(calendar.new_calendar("t"), events, tz))


def test_utc_by_default_with_an_alarm_and_no_link():
    parsed = parse(calendar.clinic_events(CLINIC, STAMP))
    [event] = parsed.walk("VEVENT")
    assert event.decoded("dtstart") == CLINIC["slots"][0]["start"]
    assert event.decoded("dtend") - event.decoded("dtstart") == timedelta(minutes=90)
    assert event.walk("VALARM")[0].decoded("trigger") == -timedelta(hours=1)
    assert "location" not in event and str(event["uid"]) == "clinic-c1-slot-s1@letsconnect"


def test_local_times_in_a_zone_that_changes_that_night():
    # Europe/London leaves summer time on 25 Oct 2026 at 01:00 UTC, in the middle of this slot.
    zone = ZoneInfo("Europe/London")
    clinic = {**CLINIC, "slots": [{"slot_id": "s1", "start": datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc),
                                   "minutes": 90}]}
    [event] = parse(calendar.clinic_events(clinic, STAMP, tz=zone), zone).walk("VEVENT")
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert (start.hour, start.minute, start.utcoffset()) == (1, 30, timedelta(hours=1))
    assert (end.hour, end.minute, end.utcoffset()) == (2, 0, timedelta(0))
    assert end.astimezone(timezone.utc) - start.astimezone(timezone.utc) == timedelta(minutes=90)


def test_the_meeting_link_when_asked_and_recurring_spaces():
    [event] = parse(calendar.clinic_events(CLINIC, STAMP, meeting_url="https://meet.example.org/x")).walk("VEVENT")
    assert str(event["location"]) == "https://meet.example.org/x"
    space = {"_id": "sp", "title": "CoP", "topics": ["fundraising"], "link": "https://m.example.org",
             "start": datetime(2026, 11, 10, 15, tzinfo=timezone.utc), "minutes": 60, "rrule": "FREQ=MONTHLY;BYDAY=2TU"}
    [recurring] = parse([calendar.space_event(space, STAMP)]).walk("VEVENT")
    assert recurring["rrule"]["FREQ"] == ["MONTHLY"]
