from email import message_from_bytes, policy

import icalendar
import pytest

from services.notifier.domain.compose import Attachment, build_email, message_id, single_line, wire_bytes
from services.notifier.domain.calendar import clinic_calendar, sequence_from
from shared.calendars import slot_uid
from services.notifier.domain.rendering import Rendered

FROM = "Let's Connect <letsconnect@wikimedia.example>"


def parsed(message):
    return message_from_bytes(wire_bytes(message), policy=policy.default)


def email(**overrides):
    values = dict(mail_from=FROM, to_name="Ahmed", to_address="ahmed@example.org", notification_id="n1")
    rendered = overrides.pop("rendered", Rendered("Subject", "Text body", "<p>HTML</p>", "ar"))
    return parsed(build_email(rendered, **{**values, **overrides}))


@pytest.mark.parametrize("evil", ["Eve\r\nBcc: victim@example.org", "Eve\nBcc: victim@example.org",
                                  "Eve\rBcc: victim@example.org", "Eve\x00\x0bBcc: victim@example.org",
                                  "Eve\u2028Bcc: victim@example.org"])
def test_line_breaks_in_names_and_subjects_never_make_headers(evil):
    message = email(to_name=evil, rendered=Rendered(f"Hello {evil}", "t", "<p>h</p>", "en"))
    raw = wire_bytes(message).decode("ascii", "replace")
    headers = raw.split("\r\n\r\n", 1)[0]
    assert "\r\nBcc:" not in headers and message["Bcc"] is None
    assert message["To"].addresses[0].addr_spec == "ahmed@example.org"
    assert len(message.get_all("To")) == 1 and len(message.get_all("Subject")) == 1
    assert "Bcc: victim@example.org" in message["Subject"]


def test_single_line_collapses_control_characters_and_limits_length():
    assert single_line("a\r\n\tb  c") == "a b c"
    assert len(single_line("x" * 500)) == 200
    assert single_line(None) == ""


def test_headers_of_a_message():
    message = email(unsubscribe_url="https://n.example.org/preferences/p/unsubscribe?category=matches&token=t")
    assert message["Content-Language"] == "ar"
    assert message["Message-ID"] == "<n1@wikimedia.example>" == message_id("n1", FROM)
    assert message["List-Unsubscribe"].strip() == "<https://n.example.org/preferences/p/unsubscribe?category=matches&token=t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Auto-Submitted"] == "auto-generated"
    assert email()["List-Unsubscribe"] is None


def test_text_and_html_alternatives_with_a_calendar_attached():
    message = email(attachments=(Attachment("clinic.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                                            params={"method": "REQUEST"}),))
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_body(("plain",)).get_content().strip() == "Text body"
    assert message.get_body(("html",)).get_content().strip() == "<p>HTML</p>"
    [attachment] = message.iter_attachments()
    assert attachment.get_content_type() == "text/calendar" and attachment.get_param("method") == "REQUEST"
    assert attachment.get_filename() == "clinic.ics"


def test_calendar_has_one_event_per_slot_with_stable_ids():
    raw = clinic_calendar(clinic_id="c1", title="Budgets", stamp="2026-11-24T10:00:00Z", method="PUBLISH",
                          slots=[{"slot_id": "s1", "start": "2026-12-10T14:00:00Z", "minutes": 90},
                                 {"slot_id": "s2", "start": "2026-12-10T19:00:00+00:00", "minutes": 60}],
                          meeting_url="https://meet.example.org/x", sequence=3)
    calendar = icalendar.Calendar.from_ical(raw)
    assert str(calendar["METHOD"]) == "PUBLISH"
    first, second = calendar.walk("VEVENT")
    assert str(first["UID"]) == slot_uid("c1", "s1") != str(second["UID"])
    assert (first.decoded("DTEND") - first.decoded("DTSTART")).total_seconds() == 90 * 60
    assert str(first["LOCATION"]) == "https://meet.example.org/x" and int(first["SEQUENCE"]) == 3


def test_cancelled_calendar_entries_say_so():
    raw = clinic_calendar(clinic_id="c1", title="x", stamp="2026-11-24T10:00:00Z", method="CANCEL",
                          status="cancelled", slots=[{"slot_id": "s1", "start": "2026-12-10T14:00:00Z", "minutes": 90}])
    [event] = icalendar.Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_later_changes_have_higher_sequence_numbers():
    assert sequence_from("2026-11-25T10:00:00Z") > sequence_from("2026-11-24T10:00:00Z")
