"""The decisions service.py takes from domain/: contacts, what a planned message becomes,
translation-request transitions, what an SMTP attempt comes to, the events the notifier emits."""
import smtplib
from datetime import datetime, timedelta, timezone

from services.notifier.domain.contacts import contact_from_event, is_gone, replaces, tombstone
from services.notifier.domain.deliveries import decide, new_delivery, parked, released
from services.notifier.domain.events import failed_event, notification_event, template_translation_request
from services.notifier.domain.messages import one_click_problem, unsubscribe_confirmation
from services.notifier.domain.parking import expiry_reason, named_people
from services.notifier.domain.planning import Planned
from services.notifier.domain.retry import classify, outcome_of
from services.notifier.domain.translations import assign, close, request_record
from tests.unit.notifier.samples import EVENTS, T, contact

NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


def participant_event(revision=1, **extra):
    return {"participant_id": "p1", "revision": revision, "email": "p1@example.org", "name": "Ahmed",
            "languages": ["ar", "en"], "timezone": "Africa/Cairo",
            "consent": {"public_profile": True, "share_contact": False, "recording": False},
            "interests": [{"topic": "b", "direction": "learn"}, {"topic": "a", "direction": "share"}], **extra}


def test_a_contact_keeps_what_writing_to_the_person_needs():
    kept = contact_from_event(participant_event(), NOW)
    assert (kept["_id"], kept["email"], kept["languages"], kept["topics"]) == ("p1", "p1@example.org", ["ar", "en"],
                                                                              ["a", "b"])


def test_only_a_newer_revision_replaces_a_contact():
    held = contact_from_event(participant_event(revision=3), NOW)
    assert replaces(None, 1) and replaces(held, 4)
    assert not replaces(held, 3) and not replaces(held, 2)


def test_a_withdrawn_person_leaves_a_tombstone_with_nothing_personal():
    gone = tombstone({"participant_id": "p1", "revision": 2, "withdrawn_at": T})
    assert is_gone(gone) and not is_gone(None) and not is_gone(contact("p1"))
    assert set(gone) == {"_id", "withdrawn", "revision", "withdrawn_at"}


def match_envelope(template="match_introduction"):
    event_type, data = EVENTS[template]
    return {"id": "e1", "type": event_type, "time": T, "data": data}


def test_a_message_naming_an_unknown_partner_is_parked_until_they_arrive():
    envelope = match_envelope()
    to_p1 = Planned("match_introduction", "p1")
    decision = decide(envelope, to_p1, {"p1": contact("p1")}, {})
    assert (decision.action, decision.awaiting) == ("park", ("p2",))
    base = new_delivery("n1", envelope, to_p1, NOW)
    waiting = parked(base, envelope, to_p1, decision.awaiting, NOW, 60)
    assert waiting["status"] == "parked" and waiting["awaiting"] == ["p2"]
    assert waiting["parked_until"] == NOW + timedelta(seconds=60) and waiting["envelope"]["id"] == "e1"
    assert decide(envelope, to_p1, {"p1": contact("p1"), "p2": contact("p2")}, {}).action == "render"


def test_nobody_is_written_to_after_withdrawing_and_turned_off_mail_is_skipped():
    envelope = match_envelope("match_proposal")
    both = {"p1": contact("p1"), "p2": contact("p2")}
    to_p1 = Planned("match_proposal", "p1")
    assert decide(envelope, to_p1, {**both, "p1": {"_id": "p1", "withdrawn": True}}, {}).action == "drop"
    skipped = decide(envelope, to_p1, both, {"p1": {"skip": ["matches"]}})
    assert skipped.action == "skip" and "matches" in skipped.reason and skipped.first_language == "en"
    introduction = decide(match_envelope(), Planned("match_introduction", "p1"), both,
                          {"p1": {"skip": ["matches", "introductions"]}})
    assert introduction.action == "render" and introduction.recipient.address == "p1@example.org"


def test_a_translator_is_written_to_in_the_requested_language_then_the_source():
    event_type, data = EVENTS["translation_request"]
    envelope = {"id": "e1", "type": event_type, "time": T, "data": data}
    decision = decide(envelope, Planned("translation_request", address="t@example.org"), {}, {})
    assert decision.action == "render" and decision.recipient.languages == ("ar", "en")
    assert named_people(envelope, Planned("translation_request", address="t@example.org")) == []


def test_a_released_message_keeps_its_identity_and_history():
    ready = {"_id": "new", "seq": 2, "created_at": NOW, "log": [], "attempts": 0, "status": "queued", "to": "x"}
    assert released(ready) == {"status": "queued", "to": "x"}


def test_an_expired_wait_names_who_never_arrived():
    assert expiry_reason(["p2", "p3"], 8) == "no contact for participant p2, p3 arrived within 8 s"


def test_a_translation_request_is_open_then_done_and_closing_twice_changes_nothing():
    _, data = EVENTS["translation_request"]
    opened = request_record(data, "e1", 2, NOW)
    assert (opened["status"], opened["translators"], opened["title"]) == ("open", 2, "Budget guide")
    first = close(opened, NOW)
    assert first.found and first.changes == {"status": "done", "done_at": NOW}
    again = close({**opened, **first.changes}, NOW + timedelta(hours=1))
    assert again.found and again.changes is None
    assert not close(None, NOW).found


def test_an_open_request_is_taken_taken_over_but_never_once_done():
    _, data = EVENTS["translation_request"]
    opened = request_record(data, "e1", 2, NOW)
    taken = assign(opened, "amal", NOW)
    assert taken.changes == {"assigned_to": "amal", "assigned_at": NOW} and taken.refused is None
    mine = {**opened, **taken.changes}
    assert assign(mine, "amal", NOW).changes is None  # again: nothing changes
    assert assign(mine, "bruno", NOW).changes["assigned_to"] == "bruno"
    done = {**mine, **close(mine, NOW).changes}
    assert assign(done, "bruno", NOW).refused and assign(done, "bruno", NOW).changes is None
    assert not assign(None, "amal", NOW).found


def test_an_attempt_is_sent_retried_with_backoff_or_failed():
    transient, permanent = classify(smtplib.SMTPDataError(451, b"later")), classify(smtplib.SMTPDataError(550, b"no"))
    sent = outcome_of(None, 1, 6, 30, 3600)
    assert sent.status == "sent" and sent.log_entry(NOW)["code"] == 250
    retry = outcome_of(transient, 2, 6, 30, 3600, rand=lambda: 0.5)
    assert (retry.status, retry.wait, retry.due_at(NOW)) == ("retry", 60, NOW + timedelta(seconds=60))
    assert retry.log_entry(NOW)["retry_in_seconds"] == 60 and retry.log_entry(NOW)["code"] == 451
    exhausted = outcome_of(transient, 6, 6, 30, 3600)
    assert exhausted.status == "failed" and not exhausted.permanent and "gave up after 6" in exhausted.reason
    refused = outcome_of(permanent, 1, 6, 30, 3600)
    assert refused.status == "failed" and refused.permanent and refused.reason.startswith("SMTPDataError: 550")


def test_the_notifiers_events_carry_no_address_or_name():
    doc = {"_id": "n1", "participant_id": "p1", "event_id": "e1", "event_type": "clinic-reminder",
           "template": "clinic_reminder", "language": "ar", "attempts": 2, "to": "p1@example.org",
           "subject": "Tomorrow: Ahmed's clinic"}
    sent = notification_event(doc)
    assert sent == {"notification_id": "n1", "participant_id": "p1", "event_id": "e1",
                    "event_type": "clinic-reminder", "template": "clinic_reminder", "language": "ar",
                    "channel": "email", "attempts": 2}
    assert failed_event(doc, "x" * 600, True)["error"] == "x" * 500
    request = template_translation_request("welcome", "sw")
    assert (request["request_id"], request["subject_kind"], request["requested_by"]) == (
        "template-welcome-sw", "template", "notifier")


def test_a_connection_message_remembers_whom_it_names_so_their_withdrawal_cancels_it():
    envelope = match_envelope()
    assert new_delivery("n1", envelope, Planned("match_introduction", "p1"), NOW)["named"] == ["p2"]
    reminder = {"id": "e2", "type": "clinic-reminder", "time": T, "data": EVENTS["clinic_reminder"][1]}
    assert "named" not in new_delivery("n2", reminder, Planned("clinic_reminder", "p1"), NOW)


def test_smtp_errors_never_carry_the_recipients_address():
    refused = classify(smtplib.SMTPRecipientsRefused({"a.b@x.org": (550, b"5.1.1 <a.b@x.org>: no such user")}))
    assert "a.b@x.org" not in refused.error and "550" in refused.error
    assert "c@y.org" not in classify(smtplib.SMTPDataError(552, b"mailbox c@y.org full")).error


def test_one_click_unsubscribe_needs_https_outside_a_local_setting():
    assert one_click_problem("https://letsconnect.example.org:8004") is None
    assert one_click_problem("http://127.0.0.1:8004") is None and one_click_problem("http://localhost:8004") is None
    assert "LC_PUBLIC_BASE_URL" in one_click_problem("http://letsconnect.example.org:8004")


def test_an_unsubscribe_link_opened_in_a_browser_lands_on_the_portals_confirmation():
    url = unsubscribe_confirmation("https://portal.example.org", "lc1.a.b", "matches")
    assert url == "https://portal.example.org/preferences?token=lc1.a.b&unsubscribe=matches"
