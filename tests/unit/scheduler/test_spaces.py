"""Learning spaces: recurrence rules the calendar can render, spaces checked on the feeds' own code
path, an iCalendar file read event by event, feeds that leave out what cannot be rendered."""
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from services.scheduler.domain import calendar, recurrence, spaces
from services.scheduler.domain.errors import Invalid

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
START = NOW + timedelta(days=2)


@pytest.mark.parametrize("rule", ["FREQ=MONTHLY;BYDAY=2TU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
                                  "FREQ=MONTHLY;BYMONTHDAY=-1;BYMONTH=2", "FREQ=YEARLY;COUNT=3",
                                  "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=DAILY;UNTIL=20270101T000000Z"])
def test_rules_that_occur_are_kept_as_the_calendar_writes_them(rule):
    written = recurrence.check(rule, START)
    assert written and recurrence.check(written, START) == written


@pytest.mark.parametrize("rule, why", [
    ("FREQ=NEVER", "not a valid RRULE"), ("FREQ=HOURLY", "FREQ must be"), ("FREQ=YEARLY;BYMONTH=13", "BYMONTH"),
    ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "none of the months"), ("FREQ=DAILY;BYMONTHDAY=3", "need FREQ"),
    ("FREQ=WEEKLY;BYDAY=2TU", "numbered BYDAY"), ("FREQ=MONTHLY;BYDAY=MO;BYSETPOS=7", "BYSETPOS"),
    ("FREQ=WEEKLY;UNTIL=20250101T000000Z", "never occurs"), ("RRULE:FREQ=DAILY", "one line"),
    ("FREQ=DAILY\r\nX-INJECTED:1", "one line"), ("FREQ=WEEKLY;BYHOUR=3", "not supported"),
    ("FREQ=DAILY;COUNT=5;UNTIL=20270101T000000Z", "COUNT or UNTIL"), ("FREQ=DAILY;COUNT=0", "COUNT"),
])
def test_rules_the_calendar_cannot_show_or_that_never_occur_are_refused(rule, why):
    with pytest.raises(recurrence.RuleInvalid, match=why):
        recurrence.check(rule, START)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="FREQ=DAILYWEKMONTHBYSPUCZ0123456789;,-+", max_size=60))
def test_any_rule_is_answered_quickly_with_a_rule_or_a_reason(rule):
    try:
        assert recurrence.check(rule, START)
    except recurrence.RuleInvalid as exc:
        assert str(exc)


def space(**changes):
    return {"kind": "community_of_practice", "title": "Circle", "description": "", "topics": ["fundraising"],
            "languages": ["en"], "region": None, "link": "https://m.example.org", "start": START, "minutes": 60,
            "recurrence": "FREQ=MONTHLY;BYDAY=2TU", **changes}


def test_a_space_is_checked_as_the_feeds_render_it():
    assert calendar.space_problems(space(), NOW) == {}
    assert calendar.space_problems(space(recurrence=None, start=None), NOW) == {}  # a chat group: no calendar entry
    assert set(calendar.space_problems(space(start=None), NOW)) == {"start"}
    assert set(calendar.space_problems(space(start=NOW + timedelta(days=3000)), NOW)) == {"start"}
    assert set(calendar.space_problems(space(recurrence="FREQ=NEVER"), NOW)) == {"recurrence"}
    with pytest.raises(Invalid) as refused:
        spaces.new_space(space(recurrence="FREQ=YEARLY;BYMONTH=13"), NOW, lambda: "id")
    assert refused.value.field == "recurrence"
    made = spaces.new_space(space(recurrence="FREQ=WEEKLY;BYDAY=TH,TU"), NOW, lambda: "id")
    assert made["recurrence"] == "FREQ=WEEKLY;BYDAY=TH,TU" and made["_id"] == "id"
    changes = spaces.edit(made, {"title": "Renamed", "recurrence": None}, NOW)
    assert changes["title"] == "Renamed" and changes["recurrence"] is None
    with pytest.raises(Invalid):
        spaces.edit(made, {"start": None}, NOW)  # still recurring: needs its first meeting


def test_a_feed_leaves_out_what_it_cannot_render():
    good = space(_id="good", rrule="FREQ=MONTHLY;BYDAY=2TU")
    bad = space(_id="bad", rrule="FREQ=NEVER")
    events, failed = calendar.feed_events([good, bad], lambda s: [calendar.space_event(s, NOW)])
    assert len(events) == 1 and [item["_id"] for item, _ in failed] == ["bad"]
    assert b"Circle" in calendar.render(calendar.new_calendar("t"), events)


def test_a_persons_feed_keeps_spaces_on_their_topics_that_still_meet():
    today = NOW.date()
    assert spaces.on_topics(space(), {"fundraising"}, today)
    assert not spaces.on_topics(space(), {"governance"}, today)
    assert not spaces.on_topics(space(recurrence="FREQ=WEEKLY;UNTIL=20261101T000000Z"), {"fundraising"}, today)
    assert not spaces.on_topics(space(recurrence=None, start=NOW - timedelta(days=3)), {"fundraising"}, today)
    assert spaces.on_topics(space(recurrence="FREQ=NEVER"), {"fundraising"}, today)  # the feed decides


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:x
BEGIN:VEVENT
UID:ok-1
SUMMARY:Community call
DTSTART;TZID=America/Lima:20261210T090000
DTEND;TZID=America/Lima:20261210T103000
RRULE:FREQ=MONTHLY;BYDAY=2TH
CATEGORIES:fundraising,Something else
LOCATION:https://meet.example.org/call
END:VEVENT
BEGIN:VEVENT
UID:cancelled
SUMMARY:Called off
STATUS:CANCELLED
DTSTART:20261210T090000Z
URL:https://meet.example.org/x
END:VEVENT
BEGIN:VEVENT
UID:no-topic
SUMMARY:Without a topic
DTSTART:20261210T090000Z
URL:https://meet.example.org/x
END:VEVENT
END:VCALENDAR
"""


def test_an_icalendar_file_is_read_event_by_event():
    found = spaces.read(ICS.encode())
    results = [spaces.from_event(i, e, spaces.ImportDefaults(), lambda c: c == "fundraising", NOW)
               for i, e in enumerate(found)]
    first, cancelled, no_topic = results
    assert first.ok and first.space["start"] == datetime(2026, 12, 10, 14, tzinfo=timezone.utc)
    assert first.space["minutes"] == 90 and first.space["link"] == "https://meet.example.org/call"
    assert first.space["topics"] == ["fundraising"] and first.space["recurrence"] == "FREQ=MONTHLY;BYDAY=2TH"
    assert first.space["source_uid"] == "ok-1"
    assert cancelled.skipped == "cancelled in the calendar" and not cancelled.ok
    assert set(no_topic.errors) == {"topics"}
    with_default = spaces.from_event(2, found[2], spaces.ImportDefaults(topics=("governance",)), lambda c: False, NOW)
    assert with_default.ok and with_default.space["topics"] == ["governance"]
    for garbage in (b"\xff\xfe", b"hello"):
        with pytest.raises(spaces.FileUnreadable):
            spaces.read(garbage)
    truncated = spaces.read(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n" + b"X" * 10)  # read leniently, refused per event
    assert all(not spaces.from_event(0, e, spaces.ImportDefaults(), lambda c: True, NOW).ok for e in truncated)
    assert spaces.source_uid(None, "T", START) == spaces.source_uid(None, "T", START)
    assert spaces.source_uid(None, "T", START) != spaces.source_uid(None, "U", START)
