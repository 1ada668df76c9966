"""Connections of up to four from the first minute (learners join open connections), self-made
connections confirmed by their people, and interpretation help for a connection."""
from __future__ import annotations

import json

import pytest

from shared.bus import Publisher
from shared.tokens import issue_link_token
from services.matcher.app import create_app
from services.matcher.config import MatcherConfig
from services.matcher.domain.rules import MAX_PEOPLE, different_groups, overlap
from services.matcher.worker import build_worker
from tests.integration.matcher.helpers import Clock, events_of, matches_of, publish, skill, token
from tests.support import STAFF_HEADERS, auth, documents_naming, eventually, namespaced_settings, running

TIMEZONES = ("Africa/Cairo", "Asia/Amman", "Africa/Tunis", "Asia/Riyadh", "Africa/Casablanca", "Asia/Baghdad",
             "Europe/Istanbul", "Asia/Dubai")


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    config = MatcherConfig(sharer_capacity=3, round_poll_seconds=0.2)
    client = create_app(settings, config, clock).test_client()
    publisher = Publisher(settings, "test")
    with running(build_worker(settings, config, clock)):
        yield settings, client, publisher, config
    publisher.close()


def open_connections(client, learners):
    found = {}
    for pid in learners:
        for match in matches_of(client, pid):
            if match["status"] in ("proposed", "confirmed"):
                found[match["id"]] = match
    return found


def check_eight_in_three(client, sharer_id, learners, candidates):
    connections = open_connections(client, learners)
    members = [p["id"] for m in connections.values() for p in m["participants"] if p["role"] == "learner"]
    assert sorted(members) == sorted(learners)  # all eight connected, each once
    assert len(connections) <= 3 and all(len(m["participants"]) <= MAX_PEOPLE for m in connections.values())
    for match in connections.values():  # every hard rule, between every two people of a connection
        people = [candidates[p["id"]] for p in match["participants"]]
        assert {p["id"] for p in match["participants"] if p["role"] == "sharer"} == {sharer_id}
        for i, a in enumerate(people):
            assert match["language"] in a["languages"]
            for b in people[i + 1:]:
                assert different_groups(a, b)
                assert overlap(a["timezone"], b["timezone"], Clock().now.date())[0] >= 60
    return connections


@pytest.mark.parametrize("round_after", [None, 4])
def test_one_sharer_and_eight_learners_arriving_one_by_one_all_connect(env, round_after):
    settings, client, publisher, _ = env
    topic = "fundraising" if round_after is None else "partnerships"
    sharer_id = f"amina-{topic}"
    candidates = {sharer_id: skill(sharer_id, topic, "share", tz="Asia/Amman")}
    publish(publisher, "skill-registered", candidates[sharer_id])
    eventually(lambda: client.get("/stats").get_json()["share_interests"] >= (1 if round_after is None else 2))
    learners = []
    for i in range(8):
        pid = f"{topic}-learner-{i}"
        candidates[pid] = skill(pid, topic, "learn", tz=TIMEZONES[i])
        publish(publisher, "skill-registered", candidates[pid])
        learners.append(pid)
        eventually(lambda pid=pid: matches_of(client, pid))  # proposed before the next one arrives
        if round_after is not None and i + 1 == round_after:
            requested = client.post("/rounds", headers=STAFF_HEADERS, json={})
            assert requested.status_code == 202
            eventually(lambda: client.get(f"/rounds/{requested.get_json()['id']}",
                                          headers=STAFF_HEADERS).get_json()["status"] == "completed", timeout=60)
    connections = check_eight_in_three(client, sharer_id, learners, candidates)
    assert len(connections) == 3
    # the members are told who joined: one match-joined per learner beyond each connection's first
    joined = sum(len(events_of(settings, "match-joined", mid, timeout=1)) for mid in connections)
    assert joined == 8 - len(connections)
    assert client.get("/stats").get_json()["joined"] >= joined


def test_a_learner_who_joined_a_confirmed_connection_answers_for_themselves(env):
    settings, client, publisher, _ = env
    publish(publisher, "skill-registered", skill("salma", "governance", "share", tz="Asia/Amman"))
    eventually(lambda: client.get("/stats").get_json()["share_interests"] >= 3)
    publish(publisher, "skill-registered", skill("first", "governance", "learn"))
    [match] = eventually(lambda: matches_of(client, "first"))
    for pid in ("first", "salma"):
        assert client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, pid)),
                           json={"participant": pid, "response": "accept"}).status_code == 200
    publish(publisher, "skill-registered", skill("second", "governance", "learn"))
    [joined] = eventually(lambda: matches_of(client, "second"))
    assert joined["id"] == match["id"] and joined["status"] == "confirmed" and joined["joined"] == ["second"]
    responses = {p["id"]: p["response"] for p in joined["participants"]}
    assert responses == {"salma": "accept", "first": "accept", "second": None}
    [event] = eventually(lambda: events_of(settings, "match-joined", match["id"]))
    assert event["data"]["participant_id"] == "second" and len(event["data"]["participants"]) == 3
    link = issue_link_token(settings, "second", "match.respond", match["id"])
    assert client.get(f"/matches/{match['id']}", headers=auth(link)).status_code == 200  # the email link reads it
    accepted = client.post(f"/matches/{match['id']}/respond", headers=auth(link),
                           json={"participant": "second", "response": "accept"})
    assert accepted.status_code == 200 and accepted.get_json()["status"] == "confirmed"
    introduced = eventually(lambda: [e for e in events_of(settings, "match-confirmed", match["id"])
                                     if e["data"].get("participant_id") == "second"])
    assert len(introduced) == 1
    publish(publisher, "skill-registered", skill("third", "governance", "learn"))
    eventually(lambda: matches_of(client, "third"))
    declined = client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, "third")),
                           json={"participant": "third", "response": "decline", "reason": "not now"})
    assert declined.status_code == 200
    after = declined.get_json()
    assert after["status"] == "confirmed" and "third" not in {p["id"] for p in after["participants"]}
    [left] = eventually(lambda: events_of(settings, "match-left", match["id"]))
    assert left["data"]["participant_id"] == "third" and left["data"]["cause"] == "responded"


def test_a_self_made_connection_confirmed_by_both_and_completed_with_an_outcome(env):
    settings, client, publisher, _ = env
    for pid in ("nadia", "omar"):  # known to the matcher from the registry's events
        publish(publisher, "participant-registered", {
            "participant_id": pid, "revision": 1, "username": pid, "name": pid, "email": f"{pid}@example.org",
            "languages": ["ar"], "timezone": "Africa/Cairo", "region": "mena",
            "group": {"name": f"Group of {pid}", "type": "user_group"}, "role": "volunteer", "purpose": "organising",
            "interests": [], "consent": {"public_profile": False, "share_contact": True, "recording": False},
            "registered_at": "2026-11-01T10:00:00Z"})
    eventually(lambda: client.application.config["LC_SERVICE_LAYER"].store.person("omar"))
    body = {"topic": "advocacy", "language": "ar", "role": "learner", "participants": [{"id": "omar", "role": "sharer"}]}
    assert client.post("/connections", json=body).status_code == 401
    assert client.post("/connections", json=body, headers=STAFF_HEADERS).status_code == 403  # for participants
    too_many = {**body, "participants": [{"id": f"p{i}"} for i in range(4)]}
    assert client.post("/connections", json=too_many, headers=auth(token(settings, "nadia"))).status_code == 422
    no_sharer = {**body, "participants": [{"id": "omar", "role": "learner"}]}
    refused = client.post("/connections", json=no_sharer, headers=auth(token(settings, "nadia")))
    assert refused.status_code == 422 and "participants" in refused.get_json()["errors"]["json"]
    made = client.post("/connections", json=body, headers=auth(token(settings, "nadia")))
    assert made.status_code == 201
    connection = made.get_json()
    assert connection["origin"] == "self_made" and connection["status"] == "proposed"
    assert {p["id"]: p["response"] for p in connection["participants"]} == {"nadia": "accept", "omar": None}
    [proposed] = eventually(lambda: events_of(settings, "connection-proposed", connection["id"]))
    assert proposed["data"]["created_by"] == "nadia" and proposed["data"]["origin"] == "self_made"
    stranger = client.post(f"/connections/{connection['id']}/confirm", json={"participant": "omar"},
                           headers=auth(token(settings, "nadia")))
    assert stranger.status_code == 403  # nobody confirms for someone else
    link = issue_link_token(settings, "omar", "connection.confirm", connection["id"])
    assert client.get(f"/connections/{connection['id']}", headers=auth(link)).status_code == 200
    confirmed = client.post(f"/connections/{connection['id']}/confirm", json={"participant": "omar"},
                            headers=auth(link))
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    [event] = eventually(lambda: events_of(settings, "match-confirmed", connection["id"]))
    assert event["data"]["origin"] == "self_made"
    assert client.get("/stats").get_json()["self_made"] == 1
    # interpretation help, then the outcome, as for any connection
    outcome_link = issue_link_token(settings, "nadia", "match.outcome", connection["id"])
    asked = client.post(f"/matches/{connection['id']}/interpretation", headers=auth(outcome_link),
                        json={"participant": "nadia", "language": "fr", "start": "2026-12-10T14:00:00Z",
                              "minutes": 60})
    assert asked.status_code == 201
    again = client.post(f"/matches/{connection['id']}/interpretation", headers=auth(outcome_link),
                        json={"participant": "nadia", "language": "fr"})
    assert again.status_code == 409
    [request] = eventually(lambda: events_of(settings, "translation-requested", asked.get_json()["request_id"]))
    assert request["data"]["kind"] == "interpretation" and request["data"]["subject_kind"] == "connection"
    assert request["data"]["subject_id"] == connection["id"] and request["data"]["language"] == "fr"
    done = client.post(f"/matches/{connection['id']}/outcome", headers=auth(outcome_link),
                       json={"participant": "nadia", "summary": "We planned our advocacy campaign together."})
    assert done.status_code == 200 and done.get_json()["status"] == "completed"
    assert client.get("/stats").get_json()["self_made"] == 1
    assert eventually(lambda: events_of(settings, "connection-completed", connection["id"]))


def test_after_erasure_nothing_of_the_person_stays_searchable(env):
    settings, client, publisher, _ = env
    store = client.application.config["LC_SERVICE_LAYER"].store
    marker = "zq-erase-marker"
    pid = f"{marker}-learner"
    publish(publisher, "skill-registered", skill("erasure-sharer", "metrics-tools", "share", tz="Asia/Amman"))
    publish(publisher, "skill-registered", {**skill(pid, "metrics-tools", "learn"), "note": f"{marker} note"})
    [match] = eventually(lambda: matches_of(client, pid))
    for person in (pid, "erasure-sharer"):
        client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, person)),
                    json={"participant": person, "response": "accept"})
    done = client.post(f"/matches/{match['id']}/outcome", headers=auth(token(settings, pid)),
                       json={"participant": pid, "summary": f"{marker}: what I wrote about our talk"})
    assert done.status_code == 200
    publish(publisher, "participant-withdrawn", {"participant_id": pid, "revision": 9,
                                                 "withdrawn_at": "2026-11-24T12:00:00Z"})
    eventually(lambda: store.is_erased(pid))
    publish(publisher, "skill-registered", {**skill(pid, "advocacy", "learn"), "note": marker})  # late: ignored
    eventually(lambda: store.candidate("erasure-sharer:metrics-tools:share"))
    shared_infrastructure = ("inbox", "outbox", "token_subjects")  # shared/ (inbox subjects, token read model)
    # the retained outbox log is erased last, in a transaction of its own after the handler's
    eventually(lambda: not documents_naming(store.db, marker, leave_out=shared_infrastructure), timeout=30,
               message="the matcher's database holds nothing of the withdrawn person")
    kept = store.match(match["id"])  # the connection still counts, without the person
    assert kept["status"] == "completed" and kept["summary"] is None and len(kept["participants"]) == 2
    assert client.get("/stats").get_json()["completed"] >= 1


@pytest.mark.parametrize("path, body, field", [
    ("/matches/x/outcome", {"participant": "p", "summary": "\ud800" * 12}, "summary"),
    ("/matches/x/outcome", {"participant": "p" * 5000, "summary": "long enough text"}, "participant"),
    ("/matches/x/respond", {"participant": "p", "response": "accept", "reason": "\u0000 nul"}, "reason"),
    ("/connections", {"topic": "x" * 100, "language": "ar", "participants": [{"id": "o"}]}, "topic"),
    ("/connections", {"topic": "advocacy", "language": "x-klingon-" * 20, "participants": [{"id": "o"}]},
     "language"),
    ("/matches/x/interpretation", {"participant": "p", "language": "fr", "minutes": 10 ** 12}, "minutes"),
    ("/matches/x/interpretation", {"participant": "p", "language": "fr", "start": "9999-12-31T23:59:59Z"}, "start"),
    ("/sharers/p/capacity", {"capacity": 10 ** 30}, "capacity"),
    ("/rounds", {"dry_run": "perhaps"}, "dry_run"),
])
def test_hostile_input_is_refused_naming_the_field(env, path, body, field):
    settings, client, _, _ = env
    headers = STAFF_HEADERS if path in ("/rounds",) or path.startswith("/sharers") else auth(token(settings, "p"))
    method = client.put if path.startswith("/sharers") else client.post
    answer = method(path, data=json.dumps(body), content_type="application/json", headers=headers)  # \ud800 as JSON
    assert answer.status_code == 422, answer.get_json()
    assert field in answer.get_json()["errors"]["json"]
