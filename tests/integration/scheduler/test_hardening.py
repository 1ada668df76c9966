"""The scheduler in front of the public (issue 12): every route with the right guard and scope (4),
never a 500 from input, a 4xx naming the field instead (5), and after participant-withdrawn no raw
participant id nor anything the person wrote left in the scheduler's database (8)."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.bus import Publisher
from shared.events import make_event
from shared.mongo import database
from shared.tokens import issue_link_token, issue_participant_token, issue_staff_token
from services.scheduler.app import create_app
from services.scheduler.service import SchedulerService
from services.scheduler.store import Store
from services.scheduler.worker import build_worker
from tests.support import STAFF_HEADERS, auth, documents_naming, eventually, namespaced_settings, running

NOW = datetime.now(timezone.utc).replace(microsecond=0)
TOPIC = "governance"


class Clock:
    now = NOW

    def __call__(self):
        return self.now


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    app = create_app(settings, clock)
    with running(build_worker(settings, clock, reminder_every=3600)) as worker:
        yield settings, app.test_client(), worker, clock


def new_clinic(client, **changes):
    body = {"kind": "monthly", "title": "Governance that lasts", "topics": [TOPIC], "language": "en", "seats": 5,
            "slots": [{"start": (NOW + timedelta(days=3)).isoformat(), "minutes": 90}],
            "meeting_url": "https://meet.example.org/hardening"}
    body.update(changes)
    response = client.post("/clinics", json=body, headers=STAFF_HEADERS)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_each_route_takes_exactly_its_own_token(env):
    settings, client, _, _ = env
    clinic = new_clinic(client)
    cid, slot = clinic["id"], clinic["slots"][0]["id"]
    seat = {"participant": "p1", "slot": slot}
    register = issue_link_token(settings, "p1", "clinic.register", cid)
    wrong = {
        "feedback link": issue_link_token(settings, "p1", "clinic.feedback", cid),
        "register link of another clinic": issue_link_token(settings, "p1", "clinic.register", "another"),
        "register link of another person": issue_link_token(settings, "p2", "clinic.register", cid),
        "calendar link": issue_link_token(settings, "p1", "calendar.feed", "p1"),
        "translator staff": issue_staff_token(settings, "t1", ["translator"]),
        "ambassador": issue_staff_token(settings, "a1", ["ambassador"]),
    }
    for name, token in wrong.items():
        assert client.post(f"/clinics/{cid}/registrations", json=seat, headers=auth(token)).status_code == 403, name
    assert client.post(f"/clinics/{cid}/registrations", json=seat, headers=auth(register)).status_code == 201
    assert client.get(f"/clinics/{cid}/registrations/p1", headers=auth(register)).status_code == 200
    assert client.get(f"/clinics/{cid}/registrations/p1", headers=auth(wrong["feedback link"])).status_code == 403
    working_group = auth(issue_staff_token(settings, "wg", ["working_group"]))
    assert client.get(f"/clinics/{cid}/registrations/p1", headers=working_group).status_code == 200

    staff_only = [("post", "/clinics", {"json": {}}), ("patch", f"/clinics/{cid}", {"json": {"title": "Changed title"}}),
                  ("delete", f"/clinics/{cid}", {}), ("get", f"/clinics/{cid}/registrations", {}),
                  ("post", f"/clinics/{cid}/complete", {"json": {"attendees": []}}),
                  ("get", f"/clinics/{cid}/feedback", {}), ("get", "/feedback", {}),
                  ("get", f"/clinics/{cid}/interpretation", {}),
                  ("post", "/spaces", {"json": {"kind": "chat_group", "title": "Chat room", "topics": [TOPIC],
                                                 "languages": ["en"], "link": "https://t.me/x"}})]
    for method, path, extra in staff_only:
        for token in (register, wrong["translator staff"], issue_participant_token(settings, "p1")):
            response = getattr(client, method)(path, headers=auth(token), **extra)
            assert response.status_code in (403, 422), (method, path, response.status_code)
            if response.status_code == 422:  # the body was refused before the guard: try a valid one
                continue
        assert getattr(client, method)(path, **extra).status_code in (401, 422), (method, path)  # no token

    # feedback takes the person's clinic.feedback link, never a seat link, never staff in their name
    client.post(f"/clinics/{cid}/complete", json={"attendees": ["p1"]}, headers=STAFF_HEADERS)
    answer = {"participant": "p1", "useful": True, "rating": 4}
    assert client.post(f"/clinics/{cid}/feedback", json=answer, headers=auth(register)).status_code == 403
    assert client.post(f"/clinics/{cid}/feedback", json=answer, headers=working_group).status_code == 403
    assert client.post(f"/clinics/{cid}/feedback", json=answer,
                       headers=auth(issue_link_token(settings, "p1", "clinic.feedback", cid))).status_code == 201
    assert client.get(f"/clinics/{cid}/presenter", headers=auth(register)).status_code == 403
    assert client.get(f"/interpretation-requests/x", headers=auth(register)).status_code == 403
    assert client.post("/participants/p1/calendar-feed", headers=auth(register)).status_code == 403


SLOT = (NOW + timedelta(days=3)).isoformat()
BAD_CLINICS = [
    ({"slots": [{"start": "9999-12-31T23:59:59-05:00", "minutes": 90}]}, "slots"),
    ({"slots": [{"start": "9999-12-31T23:00:00Z", "minutes": 600}]}, "slots"),
    ({"slots": [{"start": "1969-12-31T23:00:00Z", "minutes": 90}]}, "slots"),
    ({"slots": [{"start": "0001-01-01T00:00:00+05:00", "minutes": 90}]}, "slots"),
    ({"slots": [{"start": "2999-12-31T23:00:00Z", "minutes": 90}]}, "slots"),
    ({"slots": [{"start": SLOT, "end": "2999-12-31T23:00:00Z"}]}, "slots"),
    ({"slots": [{"start": SLOT, "minutes": 10 ** 30}]}, "slots"),
    ({"slots": [{"start": SLOT, "minutes": 1e400}]}, "slots"),
    ({"slots": [{"start": "2026-13-45T99:00:00Z"}]}, "slots"),
    ({"seats": 10 ** 40}, "seats"),
    ({"seats": -1}, "seats"),
    ({"title": "\ud800 lone surrogate"}, "title"),
    ({"title": "x" * 100000}, "title"),
    ({"language": "a" * 5000}, "language"),
    ({"sharers": ["x" * 65]}, "sharers"),
    ({"kind": "quarterly"}, "region"),
]


@pytest.mark.parametrize("changes, field", BAD_CLINICS)
def test_hostile_clinic_input_is_a_4xx_naming_the_field(env, changes, field):
    _, client, _, _ = env
    body = {"kind": "monthly", "title": "Governance that lasts", "topics": [TOPIC], "language": "en",
            "slots": [{"start": SLOT, "minutes": 90}], **changes}
    # json.dumps writes 1e400 as Infinity, which Python's parser (and so Flask's) reads back
    response = client.post("/clinics", data=json.dumps(body), content_type="application/json", headers=STAFF_HEADERS)
    assert response.status_code in (400, 422), (changes, response.status_code, response.get_json())
    if response.status_code == 422:
        assert field in json.dumps(response.get_json().get("errors", {})), response.get_json()


def test_hostile_queries_and_edits_are_refused_not_crashed(env):
    settings, client, _, _ = env
    clinic = new_clinic(client)
    for query, field in (("topic=governance&date=9999-12-31", "date"), ("topic=governance&date=0001-01-01", "date"),
                         ("topic=governance&minutes=100000000000000000000", "minutes"),
                         ("topic=" + "x" * 500, "topic")):
        response = client.get(f"/clinics/suggest-slots?{query}")
        assert response.status_code == 422 and field in json.dumps(response.get_json()["errors"]), query
    for query in ("since=9999-12-31T23:59:59-05:00", "limit=100000000000000000000", "since=1969-01-01T00:00:00Z"):
        assert client.get(f"/feedback?{query}", headers=STAFF_HEADERS).status_code == 422, query
    moved = client.patch(f"/clinics/{clinic['id']}", headers=STAFF_HEADERS, json={
        "slots": [{"slot_id": clinic["slots"][0]["id"], "start": "9999-12-31T23:00:00Z", "minutes": 600}]})
    assert moved.status_code == 422 and "slots" in json.dumps(moved.get_json()["errors"])
    assert client.get("/calendar.ics?tz=Not/AZone").status_code == 422
    assert client.get("/clinics/suggest-dates?minutes=-5").status_code == 422
    assert client.post(f"/clinics/{clinic['id']}/registrations", headers=auth(issue_participant_token(settings, "p9")),
                       json={"participant": "p9", "slot": "s" * 65}).status_code == 422
    deep = "[" * 5000 + "]" * 5000
    assert client.post("/clinics", data=deep, content_type="application/json",
                       headers=STAFF_HEADERS).status_code in (400, 422)
    for token in ("lc1.!!!.x", "lc1." + "A" * 5000 + ".x", "lc1.eyJzdWIiOjF9.sïg"):
        assert client.get(f"/clinics/{clinic['id']}/registrations/p1",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_after_withdrawal_no_raw_id_nor_their_words_remain(env):
    settings, client, worker, clock = env
    pid = "marker-7f3c2e"
    words = "MARKER-WORDS-5d41402abc"
    publisher = Publisher(settings, "test")
    publisher.publish(make_event("participant-registered", pid, {
        "participant_id": pid, "revision": 1, "username": pid, "name": "Marker", "email": "marker@example.org",
        "languages": ["en"], "timezone": "Africa/Accra", "region": "ssa", "group": None, "role": "board",
        "purpose": "organising", "activities": [],
        "interests": [{"topic": TOPIC, "direction": "learn"}, {"topic": TOPIC, "direction": "share"}],
        "consent": {"public_profile": True, "share_contact": True, "recording": False},
        "registered_at": "2026-01-01T00:00:00Z"}, "registry"))
    publisher.publish(make_event("match-confirmed", "m-marker", {
        "match_id": "m-marker", "topic": TOPIC, "language": "en", "participants": [
            {"participant_id": "someone", "role": "sharer"}, {"participant_id": pid, "role": "learner"}]}, "matcher"))
    store = Store(worker.db)
    eventually(lambda: store.people.find_one({"_id": pid}) and store.connections.find_one({"learners": pid}))
    held = new_clinic(client)  # invites them (they learn the topic)
    presented = new_clinic(client, sharers=[pid])
    token = auth(issue_participant_token(settings, pid))
    client.post(f"/clinics/{held['id']}/registrations", headers=token,
                json={"participant": pid, "slot": held["slots"][0]["id"]})
    start = datetime.fromisoformat(held["slots"][0]["start"].replace("Z", "+00:00"))
    clock.now = start - timedelta(minutes=30)
    try:
        SchedulerService(store, settings, clock=clock).reminders.send()  # claims naming the person
    finally:
        clock.now = NOW
    client.post(f"/clinics/{held['id']}/complete", headers=STAFF_HEADERS,
                json={"attendees": [pid], "recording_url": "https://commons.example.org/r.webm"})
    assert client.post(f"/clinics/{held['id']}/feedback", headers=token, json={
        "participant": pid, "useful": True, "rating": 5, "comment": words, "what_was_useful": words,
        "what_to_improve": words}).status_code == 201
    assert store.invitations.find_one({"participant_id": pid}) and store.reminders.find_one({"participant_id": pid})

    publisher.publish(make_event("participant-withdrawn", pid, {"participant_id": pid, "revision": 2,
                                                                "withdrawn_at": "2026-01-02T00:00:00Z"}, "registry"))
    publisher.close()
    eventually(lambda: store.people.find_one({"_id": pid}) is None)
    db = database(settings, "scheduler")
    # an event still pending naming them is published, then never enters the retained log
    eventually(lambda: db.outbox.count_documents({}) == 0, timeout=60)
    # every collection, the inbox and token_subjects too; the retained outbox log is erased last,
    # in a transaction of its own after the handler's
    eventually(lambda: not documents_naming(db, pid, words), timeout=30,
               message="the scheduler's database holds nothing of the withdrawn person")
    assert pid not in client.get(f"/clinics/{presented['id']}").get_data(as_text=True)
    assert client.post(f"/clinics/{held['id']}/registrations", headers=token,
                       json={"participant": pid, "slot": held["slots"][0]["id"]}).status_code == 410


def test_a_removed_staff_account_can_no_longer_act(env):
    settings, client, worker, _ = env
    token = issue_staff_token(settings, "wg-leaving", ["working_group"])
    assert client.get("/clinics/proposals", headers=auth(token)).status_code == 200
    publisher = Publisher(settings, "test")
    publisher.publish(make_event("staff-account-changed", "wg-leaving", {
        "staff_id": "wg-leaving", "revision": 2, "status": "removed", "roles": []}, "registry"))
    publisher.close()
    eventually(lambda: client.get("/clinics/proposals", headers=auth(token)).status_code == 410)
