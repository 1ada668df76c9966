"""The notifier on the embedded stack: messages read back from the real SMTP sink's Maildir."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import icalendar
import pytest

from services.notifier.app import create_app
from services.notifier.config import NotifierConfig
from services.notifier.worker import build_worker
from shared.tokens import issue_participant_token, issue_staff_token, verify_token
from shared.bus import read_topic
from tests.integration.notifier.helpers import (
    Events, mail_to, match, new_id, participant, parts, registration,
)
from shared.pseudonyms import erased_key
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running

CONFIG = NotifierConfig(retry_base_seconds=0.05, scan_seconds=0.1, park_seconds=8, digest_period_seconds=0, digest_check_seconds=0.5)


@pytest.fixture(scope="module")
def stack(servers):
    settings = namespaced_settings(servers, translators={"ar": ("translator-ar@example.org",)})
    events = Events(settings)
    worker = build_worker(settings, CONFIG)
    with running(worker):
        yield settings, events, create_app(settings).test_client(), worker
    events.close()


def delivered(servers, address, count=1):
    return eventually(lambda: (lambda found: found if len(found) >= count else None)(mail_to(servers.maildir, address)),
                      message=f"no mail for {address}")


def log_of(client, pid):
    return client.get(f"/notifications?participant={pid}", headers=STAFF_HEADERS).get_json()["items"]


def test_welcome_in_arabic_is_right_to_left_multipart_and_logged(servers, stack):
    settings, events, client, _ = stack
    pid = new_id()
    events.publish("participant-registered", participant(pid, languages=("ar", "en"), name="أحمد"))
    [message] = delivered(servers, f"{pid}@example.org")
    assert message["Content-Language"] == "ar"
    assert "أهلاً" in message["Subject"] and "أحمد" in message["Subject"]
    assert message["Message-ID"].startswith("<") and message["List-Unsubscribe"] is None  # account mail
    body = parts(message)
    assert '<html lang="ar" dir="rtl">' in body["html"]
    assert f"{settings.portal_url}/me" in body["text"] and f"{settings.portal_url}/sign-in" in body["text"]
    [entry] = eventually(lambda: [e for e in log_of(client, pid) if e["status"] == "sent"])
    assert (entry["template"], entry["language"], entry["channel"], entry["attempts"]) == ("welcome", "ar", "email", 1)
    assert entry["log"][0]["outcome"] == "sent"


def test_match_proposal_goes_to_each_person_in_their_language_with_working_links(servers, stack):
    settings, events, _, _ = stack
    learner, sharer = new_id(), new_id()
    events.publish("participant-registered", participant(learner, languages=("fr",), name="Chloé"))
    events.publish("participant-registered", participant(sharer, languages=("es", "en"), name="Lucía"))
    match_id = new_id("m")
    events.publish("match-proposed", match(match_id, learner, sharer))
    for pid, language in ((learner, "fr"), (sharer, "es")):
        proposal = eventually(lambda: [m for m in mail_to(servers.maildir, f"{pid}@example.org")
                                       if m["X-LetsConnect-Template"] == "match_proposal"])[0]
        assert proposal["Content-Language"] == language
        assert proposal["List-Unsubscribe"].strip().startswith(f"<{settings.service_url('notifier')}/unsubscribe?")
        [link] = [line.split(": ", 1)[1] for line in parts(proposal)["text"].splitlines()
                  if f"/matches/{match_id}?" in line]
        url = urlsplit(link)  # accept or decline on the portal's page of this proposal
        assert f"{url.scheme}://{url.netloc}{url.path}" == f"{settings.portal_url}/matches/{match_id}"
        token = verify_token(settings, parse_qs(url.query)["token"][0])
        assert token.holds_link("match.respond", match_id, pid) and not token.is_participant(pid)


def test_a_learner_who_joins_an_open_connection_is_asked_and_a_self_made_one_is_confirmed(servers, stack):
    settings, events, _, _ = stack
    learner, sharer, joiner = new_id(), new_id(), new_id()
    for pid in (learner, sharer, joiner):
        events.publish("participant-registered", participant(pid, name=f"Name {pid}"))
    joined = new_id("m")
    events.publish("match-joined", {**match(joined, learner, sharer), "participant_id": joiner})
    made = new_id("m")
    events.publish("connection-proposed", {**match(made, learner, sharer), "origin": "self_made",
                                           "created_by": learner}, source="matcher")
    [asked] = eventually(lambda: [m for m in mail_to(servers.maildir, f"{joiner}@example.org")
                                  if m["X-LetsConnect-Template"] == "match_proposal"])
    assert f"{settings.portal_url}/matches/{joined}?token=" in parts(asked)["text"]
    [confirm] = eventually(lambda: [m for m in mail_to(servers.maildir, f"{sharer}@example.org")
                                    if m["X-LetsConnect-Template"] == "connection_confirm"])
    text = parts(confirm)["text"]
    [line] = [line for line in text.splitlines() if f"/connections/{made}?" in line]
    token = verify_token(settings, parse_qs(urlsplit(line[line.index("http"):]).query)["token"][0])
    assert token.holds_link("connection.confirm", made, sharer) and f"Name {learner}" in text
    assert not [m for m in mail_to(servers.maildir, f"{learner}@example.org")
                if m["X-LetsConnect-Template"] == "connection_confirm"]  # who recorded it has nothing to confirm


def test_introduction_shares_addresses_only_where_both_consented(servers, stack):
    _, events, _, _ = stack
    open_one, private_one = new_id(), new_id()
    events.publish("participant-registered", participant(open_one, name="Open"))
    events.publish("participant-registered", participant(private_one, name="Private", share_contact=False))
    events.publish("match-confirmed", match(new_id("m"), open_one, private_one))
    intro = eventually(lambda: [m for m in mail_to(servers.maildir, f"{open_one}@example.org")
                                if m["X-LetsConnect-Template"] == "match_introduction"])[0]
    text = parts(intro)["text"]
    assert "Private" in text and f"{private_one}@example.org" not in text
    other = eventually(lambda: [m for m in mail_to(servers.maildir, f"{private_one}@example.org")
                                if m["X-LetsConnect-Template"] == "match_introduction"])[0]
    assert f"{open_one}@example.org" not in parts(other)["text"]


def test_an_introduction_waits_for_a_partner_whose_registration_arrives_late(servers, stack):
    _, events, client, _ = stack
    early, late = new_id(), new_id()
    events.publish("participant-registered", participant(early, name="Early"))
    eventually(lambda: mail_to(servers.maildir, f"{early}@example.org"))  # the welcome: early is known
    events.publish("match-confirmed", match(new_id("m"), early, late))
    eventually(lambda: [d for d in log_of(client, early)
                        if d["template"] == "match_introduction" and d["status"] == "parked"])
    events.publish("participant-registered", participant(late, name="Latecomer"))
    intro = eventually(lambda: [m for m in mail_to(servers.maildir, f"{early}@example.org")
                                if m["X-LetsConnect-Template"] == "match_introduction"])[0]
    assert "Latecomer" in parts(intro)["text"]


def test_clinic_confirmation_and_cancellation_carry_a_calendar(servers, stack):
    _, events, _, _ = stack
    pid, clinic = new_id(), new_id("c")
    events.publish("participant-registered", participant(pid, languages=("ar",)))
    events.publish("clinic-registration-changed", registration(clinic, pid))
    events.publish("clinic-registration-changed", registration(clinic, pid, status="cancelled",
                                                               reason="clinic_cancelled"))

    def by_template(name):
        return [m for m in mail_to(servers.maildir, f"{pid}@example.org") if m["X-LetsConnect-Template"] == name]

    confirmed = eventually(lambda: by_template("clinic_confirmed"))[0]
    cancelled = eventually(lambda: by_template("clinic_cancelled"))[0]
    for message, method, status in ((confirmed, "REQUEST", "CONFIRMED"), (cancelled, "CANCEL", "CANCELLED")):
        [attachment] = parts(message)["attachments"]
        assert attachment.get_content_type() == "text/calendar" and attachment.get_filename() == "clinic.ics"
        calendar = icalendar.Calendar.from_ical(attachment.get_content())
        assert str(calendar["METHOD"]) == method
        [event] = calendar.walk("VEVENT")
        assert event.decoded("DTSTART").isoformat() == "2026-12-10T14:00:00+00:00"
        assert str(event["STATUS"]) == status and str(event["SUMMARY"]) == "Budgets that tell a story"
        assert message["Content-Language"] == "ar" and message["List-Unsubscribe"] is None  # schedule change


def test_a_redelivered_event_sends_nothing_more(servers, stack):
    _, events, client, _ = stack
    pid = new_id()
    events.publish("participant-registered", participant(pid))
    reminder = {"clinic_id": new_id("c"), "slot_id": "slot-1", "participant_id": pid, "lead": "24h",
                "title": "Budgets", "start": "2026-12-10T14:00:00Z", "minutes": 90, "language": "en"}
    envelope = events.publish("clinic-reminder", reminder)
    events.republish(envelope)
    events.republish(envelope)
    marker = events.publish("clinic-reminder", {**reminder, "lead": "1h"})
    eventually(lambda: len([e for e in log_of(client, pid) if e["event_id"] == marker["id"]
                            and e["status"] == "sent"]) == 1)
    reminders = [m for m in mail_to(servers.maildir, f"{pid}@example.org")
                 if m["X-LetsConnect-Template"] == "clinic_reminder"]
    assert len(reminders) == 2  # the 24h one once, the 1h marker once
    assert len([e for e in log_of(client, pid) if e["event_id"] == envelope["id"]]) == 1


def test_an_event_for_an_unknown_participant_waits_for_the_contact(servers, stack):
    _, events, client, _ = stack
    pid = new_id()
    events.publish("clinic-invited", {"clinic_id": new_id("c"), "participant_id": pid, "kind": "monthly",
                                      "title": "Hot topic", "topics": ["budget-development"], "language": "en",
                                      "slots": [{"slot_id": "s1", "start": "2026-12-10T14:00:00Z", "minutes": 90,
                                                 "seats": 20}]})
    eventually(lambda: [e for e in log_of(client, pid) if e["status"] == "parked"])
    assert mail_to(servers.maildir, f"{pid}@example.org") == []
    events.publish("participant-registered", participant(pid, languages=("fr",)))
    invitation = eventually(lambda: [m for m in mail_to(servers.maildir, f"{pid}@example.org")
                                     if m["X-LetsConnect-Template"] == "clinic_invitation"])[0]
    assert invitation["Content-Language"] == "fr"
    assert parts(invitation)["attachments"][0].get_content_type() == "text/calendar"


def test_an_event_for_a_participant_who_never_arrives_expires_as_failed(servers, stack):
    settings, events, client, _ = stack
    pid = new_id()
    envelope = events.publish("clinic-reminder", {"clinic_id": new_id("c"), "slot_id": "s", "participant_id": pid,
                                                  "lead": "1h", "title": "x", "start": "2026-12-10T14:00:00Z",
                                                  "minutes": 60, "language": "en"})
    [entry] = eventually(lambda: [e for e in log_of(client, pid) if e["status"] == "expired"], timeout=40)
    assert entry["event_id"] == envelope["id"] and "no contact" in entry["error"]
    failed = eventually(lambda: [json.loads(r.value) for r in read_topic(settings, settings.topic_name(
        "notification-failed")) if json.loads(r.value)["data"]["notification_id"] == entry["id"]])
    assert failed[0]["data"]["permanent"] is True


def test_missing_language_falls_back_to_english_and_asks_translators_once(servers, stack):
    settings, events, client, _ = stack
    first, second = new_id(), new_id()
    events.publish("participant-registered", participant(first, languages=("sw",)))
    events.publish("participant-registered", participant(second, languages=("sw", "en")))
    for pid in (first, second):
        [welcome] = delivered(servers, f"{pid}@example.org")
        assert welcome["Content-Language"] == "en"
    requests = eventually(lambda: [json.loads(r.value)["data"] for r in read_topic(
        settings, settings.topic_name("translation-requested")) if json.loads(r.value)["source"] == "notifier"])
    assert [(r["subject_kind"], r["subject_id"], r["language"]) for r in requests] == [("template", "welcome", "sw")]
    listed = eventually(lambda: [r for r in client.get("/translation-requests?status=open", headers=STAFF_HEADERS)
                                 .get_json()["items"] if r["subject_id"] == "welcome" and r["language"] == "sw"])
    assert listed[0]["requested_by"] == "notifier"


def test_translation_requests_are_mailed_to_translators_listed_and_closed(servers, stack):
    _, events, client, _ = stack
    request_id = new_id("tr")
    events.publish("translation-requested", {
        "request_id": request_id, "subject_kind": "resource", "subject_id": "r-1", "language": "ar",
        "source_language": "en", "title": "Budget guide", "url": "https://meta.example.org/Budget",
        "requested_by": "resources"}, source="resources")
    mail = eventually(lambda: [m for m in mail_to(servers.maildir, "translator-ar@example.org")
                               if request_id in parts(m)["text"]])
    assert mail[0]["Content-Language"] == "ar" and "Budget guide" in mail[0]["Subject"]
    listed = client.get("/translation-requests?status=open&language=ar", headers=STAFF_HEADERS).get_json()["items"]
    assert [r["id"] for r in listed if r["id"] == request_id] == [request_id]
    assert client.post(f"/translation-requests/{request_id}/done").status_code == 401
    done = client.post(f"/translation-requests/{request_id}/done", headers=STAFF_HEADERS)
    assert done.status_code == 200 and done.get_json()["status"] == "done"
    assert client.post("/translation-requests/nope/done", headers=STAFF_HEADERS).status_code == 404
    still_open = client.get("/translation-requests?status=open", headers=STAFF_HEADERS).get_json()["items"]
    assert request_id not in [r["id"] for r in still_open]
    stats = client.get("/stats").get_json()
    assert stats["translation_requests"]["done"] >= 1 and stats["sent"] >= 1
    assert 0 < stats["first_language_share"] <= 1


def test_preferences_skip_a_category_but_schedule_changes_still_arrive(servers, stack):
    settings, events, client, _ = stack
    pid = new_id()
    events.publish("participant-registered", participant(pid))
    delivered(servers, f"{pid}@example.org")
    token = issue_participant_token(settings, pid)
    someone_else = issue_participant_token(settings, new_id())
    assert client.put(f"/preferences/{pid}", json={"skip": ["reminders"]}, headers=auth(someone_else)).status_code == 403
    refused = client.put(f"/preferences/{pid}", json={"skip": ["schedule"]}, headers=auth(token))
    assert refused.status_code == 422 and "skip" in json.dumps(refused.get_json())
    saved = client.put(f"/preferences/{pid}", json={"skip": ["reminders"]}, headers=auth(token))
    assert saved.status_code == 200 and saved.get_json()["skip"] == ["reminders"]
    clinic = new_id("c")
    reminder = events.publish("clinic-reminder", {"clinic_id": clinic, "slot_id": "slot-1", "participant_id": pid,
                                                  "lead": "24h", "title": "Budgets", "start": "2026-12-10T14:00:00Z",
                                                  "minutes": 90, "language": "en"})
    events.publish("clinic-registration-changed", registration(clinic, pid, reason="clinic_updated"))
    eventually(lambda: [m for m in mail_to(servers.maildir, f"{pid}@example.org")
                        if m["X-LetsConnect-Template"] == "clinic_changed"])
    skipped = eventually(lambda: [e for e in log_of(client, pid) if e["event_id"] == reminder["id"]])
    assert skipped[0]["status"] == "skipped"
    assert not [m for m in mail_to(servers.maildir, f"{pid}@example.org")
                if m["X-LetsConnect-Template"] == "clinic_reminder"]


def test_one_click_unsubscribe_from_the_link_in_a_mail(servers, stack):
    settings, events, client, _ = stack
    learner, sharer = new_id(), new_id()
    events.publish("participant-registered", participant(learner))
    events.publish("participant-registered", participant(sharer))
    events.publish("match-proposed", match(new_id("m"), learner, sharer))
    proposal = eventually(lambda: [m for m in mail_to(servers.maildir, f"{learner}@example.org")
                                   if m["X-LetsConnect-Template"] == "match_proposal"])[0]
    assert proposal["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = urlsplit(proposal["List-Unsubscribe"].strip().strip("<>"))
    token = parse_qs(link.query)["token"][0]
    opened = client.get(f"{link.path}?{link.query}")  # a browser (or a link scanner) opening it
    assert opened.status_code == 303
    landing = urlsplit(opened.headers["Location"])
    assert f"{landing.scheme}://{landing.netloc}{landing.path}" == f"{settings.portal_url}/preferences"
    assert parse_qs(landing.query) == {"token": [token], "unsubscribe": ["matches"]}
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/preferences/{learner}", headers=mine).get_json()["skip"] == []  # nothing changed
    response = client.post(f"{link.path}?{link.query}", data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.get_json()["skip"] == ["matches"]
    assert client.get(f"/preferences/{learner}", headers=mine).get_json()["skip"] == ["matches"]
    assert client.get(f"{link.path}?category=matches&token=forged").status_code == 401
    assert client.post(f"{link.path}?category=matches&token=forged").status_code == 401


def test_feedback_request_links_the_sessions_resources_and_digest_collects_new_ones(servers, stack):
    _, events, _, _ = stack
    reader, eager = new_id(), new_id()
    topic = f"topic-{new_id('t')}"
    events.publish("participant-registered", participant(reader, topics=(topic,)))
    events.publish("participant-registered", participant(eager, topics=(topic,)))
    delivered(servers, f"{reader}@example.org")
    delivered(servers, f"{eager}@example.org")
    clinic = new_id("c")
    resource = {"resource_id": new_id("r"), "title": "Budget deck", "description": "Slides", "kind": "deck",
                "url": "https://meta.example.org/Deck", "language": "fr", "topics": [topic], "clinic_id": clinic,
                "authors": [], "license": "CC-BY-SA-4.0", "published_at": "2026-11-24T10:00:00Z"}
    settings, client = stack[0], stack[2]
    token = issue_participant_token(settings, eager)
    assert client.put(f"/preferences/{eager}", json={"resources": "immediate"}, headers=auth(token)).status_code == 200
    events.publish("resource-published", resource, source="resources")
    immediate = eventually(lambda: [m for m in mail_to(servers.maildir, f"{eager}@example.org")
                                    if m["X-LetsConnect-Template"] == "resource_new"])
    assert "Budget deck" in immediate[0]["Subject"]
    digest = eventually(lambda: [m for m in mail_to(servers.maildir, f"{reader}@example.org")
                                 if m["X-LetsConnect-Template"] == "resource_digest"])
    page = f"{settings.portal_url}/resources/{resource['resource_id']}"  # the portal's page of the resource
    assert page in parts(digest[0])["text"] and page in parts(immediate[0])["text"]
    events.publish("session-completed", {"clinic_id": clinic, "title": "Budgets", "topics": [topic],
                                         "language": "en", "attendees": [reader], "recording_consent": False,
                                         "completed_at": "2026-11-24T12:00:00Z"}, source="scheduler")
    feedback = eventually(lambda: [m for m in mail_to(servers.maildir, f"{reader}@example.org")
                                   if m["X-LetsConnect-Template"] == "feedback_request"])
    text = parts(feedback[0])["text"]
    assert page in text and f"{settings.portal_url}/clinics/{clinic}/feedback?token=" in text


def test_withdrawal_cancels_pending_messages_and_forgets_the_contact(servers, stack):
    _, events, client, worker = stack
    pid = new_id()
    events.publish("match-proposed", match(new_id("m"), pid, new_id()))
    eventually(lambda: [e for e in log_of(client, pid) if e["status"] == "parked"])
    events.publish("participant-withdrawn", {"participant_id": pid, "revision": 2,
                                             "withdrawn_at": "2026-11-24T11:00:00Z"})
    # the log keeps the line under a digest of the id (issue 12, item 8), no longer under the id
    eventually(lambda: log_of(client, pid) == [] and worker.notifier.store.deliveries.find_one(
        {"participant_id": erased_key(pid), "status": "cancelled"}))
    late = events.publish("participant-registered", participant(pid))  # older revision, arriving late
    eventually(lambda: worker.inbox.seen(late["id"]))
    assert mail_to(servers.maildir, f"{pid}@example.org") == []
    assert worker.notifier.store.contacts.find_one({"_id": pid}) is None
    assert worker.notifier.store.contact(pid)["withdrawn"]


def test_names_with_line_breaks_cannot_inject_headers(servers, stack):
    _, events, _, _ = stack
    pid = new_id()
    events.publish("participant-registered", participant(pid, name="Eve\r\nBcc: victim@example.org\r\nX-Evil: 1"))
    [message] = delivered(servers, f"{pid}@example.org")
    assert message["Bcc"] is None and message["X-Evil"] is None
    assert message["X-Envelope-To"] == f"{pid}@example.org"
    assert "\n" not in message["Subject"] and "Eve Bcc: victim@example.org" in message["Subject"]
    assert mail_to(servers.maildir, "victim@example.org") == []


def test_a_translator_takes_a_request_another_takes_it_over_and_each_step_is_audited(servers, stack):
    settings, events, client, _ = stack
    request_id = new_id("tr")
    events.publish("translation-requested", {
        "request_id": request_id, "subject_kind": "resource", "subject_id": "r-2", "language": "ar",
        "source_language": "en", "title": "Grant report guide", "url": "https://meta.example.org/Grants",
        "requested_by": "resources"}, source="resources")
    eventually(lambda: [r for r in client.get("/translation-requests?status=open&language=ar&limit=500",
                                              headers=STAFF_HEADERS).get_json()["items"] if r["id"] == request_id])
    amal = auth(issue_staff_token(settings, "translator-amal", ["translator"]))
    bruno = auth(issue_staff_token(settings, "translator-bruno", ["translator"]))
    path = f"/translation-requests/{request_id}/assign"

    assert client.post(path, headers=auth(issue_staff_token(settings, "amb", ["ambassador"]))).status_code == 403
    taken = client.post(path, headers=amal)
    assert taken.status_code == 200 and taken.get_json()["assigned_to"] == "translator-amal"
    assert client.post(path, headers=amal).get_json()["assigned_to"] == "translator-amal"  # again: no change
    assert client.post(path, headers=bruno).get_json()["assigned_to"] == "translator-bruno"
    [listed] = [r for r in client.get("/translation-requests?status=open&language=ar&limit=500",
                                      headers=STAFF_HEADERS).get_json()["items"] if r["id"] == request_id]
    assert listed["assigned_to"] == "translator-bruno"
    assert client.post(f"/translation-requests/{request_id}/done", headers=bruno).status_code == 200
    late = client.post(path, headers=amal)
    assert late.status_code == 409 and "done" in late.get_json()["message"]
    assert client.post("/translation-requests/nope/assign", headers=amal).status_code == 404

    coordinator = auth(issue_staff_token(settings, "coord", ["coordinator"]))
    records = [r for r in client.get("/audit", headers=coordinator).get_json()["items"]
               if r["target"] == {"type": "translation_request", "id": request_id}]
    assert [(r["action"], r["actor"]["id"], r.get("before", {}).get("assigned_to"), r["after"].get("assigned_to"))
            for r in records] == [
        ("translation-request.done", "translator-bruno", None, None),
        ("translation-request.assign", "translator-bruno", "translator-amal", "translator-bruno"),
        ("translation-request.assign", "translator-amal", None, "translator-amal")]
