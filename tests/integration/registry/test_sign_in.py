"""Emailed sign-in on the embedded stack: a request answers the same for any address, a registered
participant gets a pending single-use request and a sign-in-requested event, the link opens a
session once, and never after expiry, erasure or "sign me out everywhere"."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from shared.bus import read_topic
from shared.mongo import database
from shared.tokens import issue_link_token, issue_participant_token, verify_token
from services.registry.app import create_app
from services.registry.worker import build_worker
from tests.support import STAFF_HEADERS, auth, eventually, running
from tests.integration.registry.test_registry_api import body


def sign_in_events(settings, subject=None):
    found = [json.loads(r.value) for r in read_topic(settings, settings.topic_name("sign-in-requested"), timeout=3)]
    return [e for e in found if subject is None or e["subject"] == subject]


def register(client, username, email):
    created = client.post("/participants", json=body(username, email=email))
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def requests_of(settings, pid):
    return list(database(settings, "registry").sign_in_requests.find({"subject_id": pid}))


def link_for(settings, request):
    return issue_link_token(settings, request["subject_id"], "signin", request["_id"])


def test_the_answer_is_the_same_whether_or_not_the_address_is_registered(client, settings, relay):
    person = register(client, "Signer In", "signer@example.org")
    known = client.post("/sign-in", json={"email": "Signer@Example.org", "audience": "participant"})
    unknown = client.post("/sign-in", json={"email": "nobody-here@example.org", "audience": "participant"})
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    [request] = requests_of(settings, person["id"])
    assert request["status"] == "pending"
    assert database(settings, "registry").sign_in_requests.count_documents({}) == 1  # nothing for the stranger
    [event] = eventually(lambda: sign_in_events(settings, person["id"]))
    assert event["data"]["request_id"] == request["_id"] and event["data"]["audience"] == "participant"
    assert event["data"]["language"] == "ar"
    expires = datetime.fromisoformat(event["data"]["expires_at"].replace("Z", "+00:00"))
    assert timedelta(minutes=29) < expires - datetime.now(timezone.utc) <= timedelta(minutes=30)
    assert "signer@example.org" not in json.dumps(event).lower() and "lc1." not in json.dumps(event)


def test_a_link_opens_a_session_once(client, settings):
    person = register(client, "Once Only", "once@example.org")
    client.post("/sign-in", json={"email": "once@example.org"})
    [request] = requests_of(settings, person["id"])
    link = link_for(settings, request)
    assert client.get(f"/participants/{person['id']}", headers=auth(link)).status_code == 403  # a link is no session
    opened = client.post("/sessions", json={"token": link})
    assert opened.status_code == 201, opened.get_json()
    session = opened.get_json()
    assert session["participant"] == person["id"]
    assert verify_token(settings, session["token"]).kind == "participant"
    expires = datetime.fromisoformat(session["expires_at"].replace("Z", "+00:00"))
    assert timedelta(days=29) < expires - datetime.now(timezone.utc) <= timedelta(days=30)
    assert client.get(f"/participants/{person['id']}", headers=auth(session["token"])).get_json()["email"] \
        == "once@example.org"
    again = client.post("/sessions", json={"token": link})
    assert again.status_code == 401 and "used" in again.get_json()["message"]


def test_two_simultaneous_exchanges_of_one_link_open_one_session(client, settings):
    person = register(client, "Racing Clicker", "race@example.org")
    client.post("/sign-in", json={"email": "race@example.org"})
    [request] = requests_of(settings, person["id"])
    link = link_for(settings, request)
    clients = [create_app(settings).test_client() for _ in range(4)]  # as several API processes
    with ThreadPoolExecutor(4) as pool:
        statuses = list(pool.map(lambda c: c.post("/sessions", json={"token": link}).status_code, clients))
    assert sorted(statuses) == [201, 401, 401, 401]


def test_an_expired_or_foreign_or_wrong_kind_of_link_opens_nothing(client, settings):
    person = register(client, "Late Clicker", "late@example.org")
    other = register(client, "Other Person", "other@example.org")
    client.post("/sign-in", json={"email": "late@example.org"})
    [request] = requests_of(settings, person["id"])
    stale = issue_link_token(settings, person["id"], "signin", request["_id"], now=time.time() - 31 * 60)
    assert client.post("/sessions", json={"token": stale}).status_code == 401  # the link itself expired
    foreign = issue_link_token(settings, other["id"], "signin", request["_id"])
    assert client.post("/sessions", json={"token": foreign}).status_code == 401  # not sent to them
    wrong_scope = issue_link_token(settings, person["id"], "match.respond", request["_id"])
    assert client.post("/sessions", json={"token": wrong_scope}).status_code == 401
    session = issue_participant_token(settings, person["id"])
    assert client.post("/sessions", json={"token": session}).status_code == 401
    assert client.post("/sessions", json={"token": "lc1.forged.token"}).status_code == 401
    database(settings, "registry").sign_in_requests.update_one(
        {"_id": request["_id"]}, {"$set": {"expires_at": datetime.now(timezone.utc) - timedelta(seconds=1)}})
    expired = client.post("/sessions", json={"token": link_for(settings, request)})
    assert expired.status_code == 401 and "expired" in expired.get_json()["message"]


def test_erasure_ends_pending_links(client, settings):
    person = register(client, "Leaving Soon", "leaving-soon@example.org")
    client.post("/sign-in", json={"email": "leaving-soon@example.org"})
    [request] = requests_of(settings, person["id"])
    assert client.delete(f"/participants/{person['id']}", headers=auth(person["token"])).status_code == 204
    assert requests_of(settings, person["id"]) == []
    assert client.post("/sessions", json={"token": link_for(settings, request)}).status_code == 401
    client.post("/sign-in", json={"email": "leaving-soon@example.org"})
    assert requests_of(settings, person["id"]) == []


def test_sign_me_out_everywhere_ends_sessions_and_unused_links(client, settings):
    person = register(client, "Careful Person", "careful@example.org")
    client.post("/sign-in", json={"email": "careful@example.org"})
    client.post("/sign-in", json={"email": "careful@example.org"})
    first, second = requests_of(settings, person["id"])
    unused = link_for(settings, second)
    session = client.post("/sessions", json={"token": link_for(settings, first)}).get_json()["token"]
    fresh = client.post(f"/participants/{person['id']}/token", headers=auth(session))
    assert fresh.status_code == 201
    assert client.get(f"/participants/{person['id']}", headers=auth(session)).status_code == 401
    assert client.post("/sessions", json={"token": unused}).status_code == 401
    assert client.get(f"/participants/{person['id']}", headers=auth(fresh.get_json()["token"])).status_code == 200


def test_staff_sign_in_is_accepted_and_does_nothing_yet(client, settings):
    register(client, "Staff Lookalike", "staff-like@example.org")
    before = database(settings, "registry").sign_in_requests.count_documents({})
    answer = client.post("/sign-in", json={"email": "staff-like@example.org", "audience": "staff"})
    assert answer.status_code == 202
    assert database(settings, "registry").sign_in_requests.count_documents({}) == before


@pytest.mark.parametrize("payload, field", [({"email": "not an address"}, "email"), ({}, "email"),
                                            ({"email": "a@example.org", "audience": "robot"}, "audience")])
def test_bad_sign_in_requests_name_the_field(client, payload, field):
    answer = client.post("/sign-in", json=payload)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]["json"]


def test_expired_requests_are_purged_by_the_worker(settings):
    db = database(settings, "registry")
    db.sign_in_requests.insert_one({"_id": "old-request", "subject_id": "p-old", "audience": "participant",
                                    "status": "pending", "requested_at": datetime.now(timezone.utc),
                                    "expires_at": datetime.now(timezone.utc) - timedelta(hours=1)})
    with running(build_worker(settings)):
        eventually(lambda: db.sign_in_requests.count_documents({"_id": "old-request"}) == 0)


def test_a_stranger_cannot_tell_a_live_id_from_an_unknown_or_erased_one(client):
    live = register(client, "Live Person", "live@example.org")
    gone = register(client, "Gone Person", "gone@example.org")
    client.delete(f"/participants/{gone['id']}", headers=auth(gone["token"]))
    for pid in (live["id"], gone["id"], "0" * 32):
        assert client.get(f"/participants/{pid}").status_code == 404
        assert client.patch(f"/participants/{pid}", json={"name": "x"}).status_code == 404
        assert client.delete(f"/participants/{pid}").status_code == 404
        assert client.post(f"/participants/{pid}/token").status_code == 404
    assert client.get(f"/participants/{gone['id']}", headers=STAFF_HEADERS).status_code == 410  # staff may know
