"""The notifier against hostile and careless input (issue 12), on the embedded stack: header
injection through every template, RFC 8058 unsubscribe that a GET cannot trigger, nothing stored
for an erased person, nothing of them left after participant-withdrawn."""
from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notifier.app import create_app
from services.notifier.config import NotifierConfig
from services.notifier.domain.preferences import TEMPLATE_CATEGORIES, unsubscribable
from services.notifier.worker import build_worker
from shared.mongo import database
from shared.tokens import issue_link_token, issue_participant_token
from tests.integration.notifier.helpers import Events, mail_to, match, new_id, participant, registration
from tests.support import STAFF_HEADERS, auth, documents_naming, eventually, namespaced_settings, running
from tests.unit.notifier.samples import ADDRESSED

CONFIG = NotifierConfig(retry_base_seconds=0.05, scan_seconds=0.1, park_seconds=600, digest_period_seconds=0,
                        digest_check_seconds=0.5)
TRANSLATOR = "translator-ar@example.org"
CRLF_WORD = "=?utf-8?b?" + base64.b64encode(b"x\r\nBcc: victim@example.org").decode() + "?="
HOSTILE_NAME = "A" * 60 + ', "Bob" <victim@example.org>, =?utf-8?q?Eve=0D=0ABcc:_victim@example.org?='
HOSTILE_TITLE = f"Budgets\r\nBcc: victim@example.org {CRLF_WORD} =?utf-8?q?=0D=0AX-Evil:_1?="
BASE_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted", "mime-version", "content-type",
                "content-language", "x-letsconnect-template", "x-letsconnect-notification", "x-envelope-to"}


@pytest.fixture(scope="module")
def stack(servers):
    settings = namespaced_settings(servers, translators={"ar": (TRANSLATOR,)})
    events = Events(settings)
    worker = build_worker(settings, CONFIG)
    with running(worker):
        yield settings, events, create_app(settings, CONFIG).test_client(), worker
    events.close()


def templates_of(maildir, address):
    return {m["X-LetsConnect-Template"]: m for m in mail_to(maildir, address)}


def test_every_template_carries_exactly_its_headers_and_one_recipient_whatever_people_wrote(servers, stack):
    settings, events, client, _ = stack
    person, partner, reader = new_id(), new_id(), new_id()
    topic = f"topic-{new_id('t')}"
    for pid in (person, partner, reader):
        events.publish("participant-registered", participant(pid, name=HOSTILE_NAME, topics=(topic,)))
    eventually(lambda: all(mail_to(servers.maildir, f"{pid}@example.org") for pid in (person, partner, reader)))
    immediate = client.put(f"/preferences/{person}", json={"resources": "immediate"},
                           headers=auth(issue_participant_token(settings, person)))
    assert immediate.status_code == 200
    hostile_match = {**match(new_id("m"), person, partner), "reasons": [HOSTILE_TITLE]}
    events.publish("match-proposed", hostile_match)
    events.publish("match-confirmed", hostile_match)
    events.publish("match-declined", {**hostile_match, "participant_id": partner, "cause": "responded"})
    events.publish("connection-proposed", {**hostile_match, "match_id": new_id("m"), "origin": "self_made",
                                           "created_by": partner}, source="matcher")
    events.publish("connection-completed", {**hostile_match, "summary": HOSTILE_TITLE,
                                            "completed_at": "2026-11-24T12:00:00Z"}, source="matcher")
    clinic = new_id("c")
    events.publish("clinic-invited", {"clinic_id": clinic, "participant_id": person, "kind": "monthly",
                                      "title": HOSTILE_TITLE, "topics": [topic], "language": "en",
                                      "slots": [{"slot_id": "s1", "start": "2026-12-10T14:00:00Z", "minutes": 90,
                                                 "seats": 20}]})
    for status, reason in (("confirmed", "registered"), ("waitlisted", "registered"), ("confirmed", "promoted"),
                           ("confirmed", "clinic_updated"), ("cancelled", "clinic_cancelled"),
                           ("cancelled", "cancelled_by_participant")):
        events.publish("clinic-registration-changed", registration(clinic, person, status=status, reason=reason,
                                                                   title=HOSTILE_TITLE))
    events.publish("clinic-reminder", {"clinic_id": clinic, "slot_id": "slot-1", "participant_id": person,
                                       "lead": "24h", "title": HOSTILE_TITLE, "start": "2026-12-10T14:00:00Z",
                                       "minutes": 90, "language": "en"})
    events.publish("resource-published", {
        "resource_id": new_id("r"), "title": HOSTILE_TITLE, "description": HOSTILE_TITLE, "kind": "deck",
        "url": "https://meta.example.org/Deck", "language": "en", "topics": [topic], "clinic_id": clinic,
        "authors": [], "license": "CC-BY-SA-4.0", "published_at": "2026-11-24T10:00:00Z"}, source="resources")
    events.publish("session-completed", {"clinic_id": clinic, "title": HOSTILE_TITLE, "topics": [topic],
                                         "language": "en", "attendees": [person], "recording_consent": False,
                                         "completed_at": "2026-11-24T12:00:00Z"}, source="scheduler")
    slot = {"slot_id": "s1", "start": "2026-12-10T14:00:00Z", "minutes": 90, "seats": 20}
    events.publish("presenter-scheduled", {
        "clinic_id": clinic, "participant_id": person, "change": "created", "revision": 1, "kind": "monthly",
        "title": HOSTILE_TITLE, "description": HOSTILE_TITLE, "topics": [topic], "slots": [slot], "language": "en",
        "interpretation": ["ar"], "meeting_url": "https://meet.example.org/abc"}, source="scheduler")
    events.publish("presenter-reminder", {
        "clinic_id": clinic, "slot_id": "s1", "participant_id": person, "lead": "1h", "title": HOSTILE_TITLE,
        "start": "2026-12-10T14:00:00Z", "minutes": 90, "language": "en",
        "meeting_url": "https://meet.example.org/abc"}, source="scheduler")
    events.publish("interpretation-unavailable", {
        "clinic_id": clinic, "slot_id": "s1", "participant_id": person, "interpretation": "fr", "language": "en",
        "title": HOSTILE_TITLE, "start": "2026-12-10T14:00:00Z", "minutes": 90}, source="scheduler")
    expires = (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()
    events.publish("sign-in-requested", {"request_id": new_id("sr"), "audience": "participant", "subject_id": person,
                                         "expires_at": expires, "language": None}, source="registry")
    request_id = new_id("tr")
    events.publish("translation-requested", {
        "request_id": request_id, "subject_kind": "resource", "subject_id": "r-1", "language": "ar",
        "source_language": "en", "title": HOSTILE_TITLE, "url": None, "requested_by": "resources"},
        source="resources")

    # every template a participant receives; those addressed to configured interpreters and the team
    # (ADDRESSED) are checked with hostile text in tests/unit/notifier/test_header_safety.py and
    # sent through the stack in tests/integration/scheduler/test_clinic_team_mail.py
    wanted = set(TEMPLATE_CATEGORIES) - {"resource_digest"} - set(ADDRESSED)
    mine = eventually(lambda: (lambda got: got if wanted <= set(got) else None)(
        templates_of(servers.maildir, f"{person}@example.org")), timeout=60, message="not every message arrived")
    messages = [(f"{person}@example.org", template, mine[template]) for template in wanted]
    digest = eventually(lambda: templates_of(servers.maildir, f"{reader}@example.org").get("resource_digest"))
    messages.append((f"{reader}@example.org", "resource_digest", digest))
    translator = eventually(lambda: [m for m in mail_to(servers.maildir, TRANSLATOR)
                                     if request_id in m.get_body(("plain",)).get_content()])[0]
    messages.append((TRANSLATOR, "translation_request", translator))
    assert {template for _, template, _ in messages} == set(TEMPLATE_CATEGORIES) - set(ADDRESSED) | {"translation_request"}

    for address, template, message in messages:
        expected = set(BASE_HEADERS)
        if unsubscribable(TEMPLATE_CATEGORIES[template]) and address != TRANSLATOR:
            expected |= {"list-unsubscribe", "list-unsubscribe-post"}
        assert sorted(name.lower() for name in message.keys()) == sorted(expected), template
        [to] = message.get_all("To")
        assert [a.addr_spec for a in to.addresses] == [address], template
        assert message["X-Envelope-To"] == address, template
        for name, value in message.items():
            assert "\r" not in str(value) and "\n" not in str(value), (template, name)
    assert mail_to(servers.maildir, "victim@example.org") == []


def unsubscribe_link(servers, pid):
    proposal = eventually(lambda: [m for m in mail_to(servers.maildir, f"{pid}@example.org")
                                   if m["X-LetsConnect-Template"] == "match_proposal"])[0]
    header = proposal["List-Unsubscribe"].strip()
    assert header.startswith("<http") and "=?" not in header
    return urlsplit(header.strip("<>"))


def test_unsubscribe_needs_exactly_the_preferences_link_of_that_person(servers, stack):
    settings, events, client, _ = stack
    learner, sharer = new_id(), new_id()
    events.publish("participant-registered", participant(learner))
    events.publish("participant-registered", participant(sharer))
    match_id = new_id("m")
    events.publish("match-proposed", match(match_id, learner, sharer))
    link = unsubscribe_link(servers, learner)
    session = issue_participant_token(settings, learner)
    answering = issue_link_token(settings, learner, "match.respond", match_id)
    for wrong in (session, answering, issue_link_token(settings, sharer, "preferences", learner)):
        assert client.post(f"/unsubscribe?category=matches&token={wrong}").status_code == 403
        assert client.get(f"/unsubscribe?category=matches&token={wrong}").status_code == 403
    assert client.post("/unsubscribe?category=schedule&" + link.query.split("&", 1)[1]).status_code == 422
    assert client.get(f"/preferences/{learner}", headers=auth(session)).get_json()["skip"] == []


def test_nothing_is_stored_for_an_erased_participant(servers, stack):
    settings, events, client, worker = stack
    learner, sharer = new_id(), new_id()
    events.publish("participant-registered", participant(learner))
    events.publish("participant-registered", participant(sharer))
    events.publish("match-proposed", match(new_id("m"), learner, sharer))
    link = unsubscribe_link(servers, learner)
    session = issue_participant_token(settings, learner)
    events.publish("participant-withdrawn", {"participant_id": learner, "revision": 2,
                                             "withdrawn_at": "2026-11-24T11:00:00Z"})
    eventually(lambda: (worker.notifier.store.contact(learner) or {}).get("withdrawn"))
    assert client.post(f"{link.path}?{link.query}").status_code == 410
    assert client.put(f"/preferences/{learner}", json={"skip": ["matches"]}, headers=auth(session)).status_code == 410
    assert client.put(f"/preferences/{learner}", json={"skip": ["matches"]}, headers=STAFF_HEADERS).status_code == 410
    assert client.get(f"/preferences/{learner}", headers=STAFF_HEADERS).status_code == 410
    assert worker.notifier.store.preference(learner) is None


def test_after_withdrawal_no_notifier_collection_holds_anything_of_the_person(servers, stack):
    settings, events, client, worker = stack
    marker = uuid.uuid4().hex[:10]
    name, username, email = f"Marker{marker}Name", f"marker{marker}user", f"marker{marker}@example.org"
    words = f"Words{marker} about my budget work"
    person, partner, stranger = new_id(), new_id(), new_id()
    events.publish("participant-registered", {**participant(person, email=email), "name": name,
                                              "username": username,
                                              "interests": [{"topic": "budget-development", "direction": "learn",
                                                             "note": words}]})
    events.publish("participant-registered", participant(partner))
    eventually(lambda: mail_to(servers.maildir, email) and mail_to(servers.maildir, f"{partner}@example.org"))
    assert client.put(f"/preferences/{person}", json={"skip": ["reminders"]},
                      headers=auth(issue_participant_token(settings, person))).status_code == 200
    connection = match(new_id("m"), person, partner)
    events.publish("match-confirmed", connection)  # both known: the introductions name the person
    # a connection with someone not yet known: parked with the event, which carries their words
    waiting = {**match(new_id("m"), person, stranger), "summary": words, "completed_at": "2026-11-24T12:00:00Z"}
    events.publish("connection-completed", waiting, source="matcher")
    events.publish("translation-requested", {
        "request_id": new_id("tr"), "kind": "interpretation", "subject_kind": "connection",
        "subject_id": connection["match_id"], "language": "ar", "source_language": "en",
        "title": f"Interpretation for {name}", "url": None, "requested_by": person}, source="matcher")
    events.publish("translation-requested", {
        "request_id": new_id("tr"), "subject_kind": "resource", "subject_id": "r-1", "language": "ar",
        "source_language": "en", "title": "A budget guide", "url": None, "requested_by": person}, source="resources")
    eventually(lambda: len([e for e in client.get(f"/notifications?participant={person}", headers=STAFF_HEADERS)
                            .get_json()["items"] if e["status"] in ("sent", "parked")]) >= 3)
    eventually(lambda: len(client.get(f"/translation-requests?language=ar&limit=500", headers=STAFF_HEADERS)
                           .get_json()["items"]) >= 2)

    def holding(needles):
        return documents_naming(database(settings, "notifier"), *needles)

    markers = (marker, email)
    assert holding(markers)  # the test would prove nothing if the person's data never got in
    events.publish("participant-withdrawn", {"participant_id": person, "revision": 2,
                                             "withdrawn_at": "2026-11-24T13:00:00Z"})
    eventually(lambda: not holding(markers), timeout=30, message="the erased person's data remains")
    requests = client.get("/translation-requests?limit=500", headers=STAFF_HEADERS).get_json()["items"]
    assert person not in json.dumps(requests)
    kept = {collection for collection, _ in holding((person,))}
    # what may keep the raw id: the tombstone that makes late events ignored, the token read model
    # that refuses the person's tokens, the inbox, and the delivery log's participant field
    assert kept <= {"contacts", "token_subjects", "inbox", "deliveries"}, kept
    deliveries = database(settings, "notifier").deliveries.find({"$or": [{"participant_id": person},
                                                                         {"named": person}]})
    for doc in deliveries:
        assert not {"subject", "message", "to", "envelope", "named"} & set(doc), doc
