"""The matcher on the embedded stack: read model from registry events, incremental proposals,
accept / decline / expire / outcome, withdrawals, and two workers sharing the load."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from shared.tokens import issue_participant_token
from shared.bus import Publisher, read_topic
from shared.mongo import database, in_transaction
from services.matcher.domain.candidates import Edge
from services.matcher.app import create_app
from services.matcher.config import MatcherConfig
from services.matcher.worker import build_worker
from tests.integration.matcher.helpers import Clock, events_of, matches_of, publish, skill, token
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    config = MatcherConfig(sharer_capacity=2)
    client = create_app(settings, config, clock).test_client()
    publisher = Publisher(settings, "test")
    with running(build_worker(settings, config, clock)) as worker:
        yield settings, client, publisher, clock, worker
    publisher.close()


def share_interests(client) -> int:
    return client.get("/stats").get_json()["share_interests"]


def test_a_learner_gets_a_proposal_with_reasons_within_moments(env):
    settings, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-a", "budget-development", "share", tz="Asia/Amman"))
    publish(publisher, "skill-registered", skill("learner-a", "budget-development", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-a"))
    assert match["status"] == "proposed" and match["topic"] == "budget-development"
    assert {p["id"]: p["role"] for p in match["participants"]} == {"sharer-a": "sharer", "learner-a": "learner"}
    assert "both speak Arabic" in match["reasons"] and any(r.endswith("UTC") for r in match["reasons"])
    assert "shares 'Budget development'" in match["reasons"] and "language:ar" in match["reason_codes"]
    [event] = eventually(lambda: events_of(settings, "match-proposed", match["id"]))
    assert {p["participant_id"] for p in event["data"]["participants"]} == {"sharer-a", "learner-a"}
    assert event["data"]["reasons"] == match["reasons"]
    # the participant sees their own matches, nobody else's
    assert client.get("/matches?participant=learner-a", headers=auth(token(settings, "learner-a"))).status_code == 200
    assert client.get("/matches?participant=learner-a", headers=auth(token(settings, "other"))).status_code == 403
    assert client.get(f"/matches/{match['id']}", headers=auth(token(settings, "other"))).status_code == 403


def test_nobody_is_proposed_across_a_hard_rule(env):
    _, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-b", "fundraising", "share", languages=("ja",),
                                                 tz="Asia/Tokyo", region="esea"))
    publish(publisher, "skill-registered", skill("learner-b", "fundraising", "learn", languages=("es",),
                                                 tz="America/Lima", region="lac"))
    publish(publisher, "skill-registered", skill("learner-c", "fundraising", "learn", languages=("ja",),
                                                 group={"name": "Group of SHARER-B", "type": "user_group"}))
    eventually(lambda: client.get("/stats").get_json()["learn_interests"] >= 3)
    publish(publisher, "skill-registered", skill("sharer-b", "governance", "share", revision=2, languages=("ja",)))
    eventually(lambda: share_interests(client) >= 3)  # sharer-b's later event: the earlier ones are done
    assert matches_of(client, "learner-b") == [] and matches_of(client, "learner-c") == []


def test_the_read_model_keeps_the_newest_copy_of_an_interest(env):
    _, client, publisher, _, _ = env
    store = client.application.config["LC_SERVICE_LAYER"].store
    newer = skill("learner-r", "wikidata-basics", "learn", languages=("fr",), revision=3)
    publish(publisher, "skill-registered", newer)
    publish(publisher, "skill-registered", newer)  # a redelivery
    publish(publisher, "skill-registered", skill("learner-r", "wikidata-basics", "learn", languages=("de",),
                                                 revision=2))  # late
    publish(publisher, "skill-registered", skill("learner-r", "newcomer-resources", "learn", revision=4))
    eventually(lambda: store.candidates.find_one({"_id": "learner-r:newcomer-resources:learn"}))
    assert store.candidates.find_one({"_id": "learner-r:wikidata-basics:learn"})["languages"] == ["fr"]
    publish(publisher, "skill-withdrawn", {"participant_id": "learner-r", "revision": 5, "topic": "wikidata-basics",
                                           "direction": "learn"})
    eventually(lambda: not store.candidates.find_one({"_id": "learner-r:wikidata-basics:learn"})["active"])


def test_everyone_accepts_then_the_outcome_completes_the_connection(env):
    settings, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-d", "governance", "share", tz="Europe/Paris",
                                                 region="nwe", languages=("fr", "ar"), share_contact=False))
    publish(publisher, "skill-registered", skill("learner-d", "governance", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-d"))
    url = f"/matches/{match['id']}"
    early = client.post(f"{url}/outcome", headers=auth(token(settings, "learner-d")),
                        json={"participant": "learner-d", "summary": "We met and it went well."})
    assert early.status_code == 409
    stranger = client.post(f"{url}/respond", headers=auth(token(settings, "stranger")),
                           json={"participant": "stranger", "response": "accept"})
    assert stranger.status_code == 403
    theft = client.post(f"{url}/respond", headers=auth(token(settings, "stranger")),
                        json={"participant": "learner-d", "response": "accept"})
    assert theft.status_code == 403
    bad = client.post(f"{url}/respond", headers=auth(token(settings, "learner-d")),
                      json={"participant": "learner-d", "response": "maybe"})
    assert bad.status_code == 422 and "response" in json.dumps(bad.get_json())
    page = client.get(f"{url}/respond?response=accept&participant=learner-d&token={token(settings, 'learner-d')}")
    assert page.status_code == 200 and page.mimetype == "text/html" and b"<form method='post'" in page.data
    assert client.get(url, headers=STAFF_HEADERS).get_json()["status"] == "proposed"  # a GET changes nothing
    first = client.post(f"{url}/respond", headers=auth(token(settings, "learner-d")),
                        json={"participant": "learner-d", "response": "accept"})
    assert first.get_json()["status"] == "proposed"
    forged = client.post(f"{url}/respond", data={"participant": "sharer-d", "response": "accept",
                                                 "token": token(settings, "learner-d")})
    assert forged.status_code == 403 and forged.mimetype == "text/html"
    form = client.post(f"{url}/respond", data={"participant": "sharer-d", "response": "accept",
                                               "token": token(settings, "sharer-d")})
    assert form.status_code == 200 and b"so has everyone" in form.data
    assert client.get(url, headers=STAFF_HEADERS).get_json()["status"] == "confirmed"
    done = client.post(f"{url}/outcome", headers=auth(token(settings, "learner-d")),
                       json={"participant": "learner-d", "summary": "We compared governance documents."})
    assert done.get_json()["status"] == "completed" and done.get_json()["summary"].startswith("We compared")
    again = client.post(f"{url}/respond", headers=auth(token(settings, "learner-d")),
                        json={"participant": "learner-d", "response": "decline"})
    assert again.status_code == 409
    [confirmed] = eventually(lambda: events_of(settings, "match-confirmed", match["id"]))
    assert {p["participant_id"]: p["share_contact"] for p in confirmed["data"]["participants"]} == {
        "learner-d": True, "sharer-d": False}  # the notifier shares contact details only where both agreed
    assert len(events_of(settings, "match-accepted", match["id"])) == 2
    [completed] = eventually(lambda: events_of(settings, "connection-completed", match["id"]))
    assert completed["data"]["summary"] == "We compared governance documents."
    assert client.get("/matches/nope", headers=STAFF_HEADERS).status_code == 404
    assert client.post("/matches/nope/respond", headers=auth(token(settings, "learner-d")),
                       json={"participant": "learner-d", "response": "accept"}).status_code == 404
    stats = client.get("/stats").get_json()
    assert stats["completed"] >= 1 and stats["participants_connected"] >= 2


def test_the_confirmation_page_escapes_what_the_link_carries(env):
    _, client, _, _, _ = env
    page = client.get("/matches/x%3Cb%3E/respond?response=decline&participant=%3Cscript%3Ealert(1)%3C/script%3E"
                      "&token='%20onmouseover='x")
    assert page.status_code == 200
    assert b"<script>" not in page.data and b"&lt;script&gt;" in page.data and b"<b>" not in page.data
    assert b"' onmouseover='x" not in page.data
    assert client.get("/matches/x/respond?response=sure&participant=p&token=t").status_code == 422


def test_a_decline_frees_the_sharer_blocks_the_pair_and_brings_the_next_best(env):
    settings, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-e", "advocacy", "share", tz="Africa/Tunis"))
    publish(publisher, "skill-registered", skill("sharer-e2", "advocacy", "share", languages=("en",)))
    eventually(lambda: client.application.config["LC_SERVICE_LAYER"].store.candidates.count_documents(
        {"topic": "advocacy", "direction": "share"}) == 2)
    publish(publisher, "skill-registered", skill("learner-e", "advocacy", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-e"))
    assert {p["id"] for p in match["participants"]} == {"learner-e", "sharer-e"}  # Arabic beats English
    declined = client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, "sharer-e")),
                           json={"participant": "sharer-e", "response": "decline", "reason": "no time"})
    assert declined.get_json()["status"] == "declined"
    assert database(settings, "matcher").loads.find_one({"_id": "sharer-e"})["open"] == 0
    [event] = eventually(lambda: events_of(settings, "match-declined", match["id"]))
    assert event["data"]["participant_id"] == "sharer-e" and event["data"]["cause"] == "responded"
    # the learner is proposed to the next best sharer at once, never to the one who declined
    newest = eventually(lambda: [m for m in matches_of(client, "learner-e") if m["id"] != match["id"]])
    assert {p["id"] for p in newest[0]["participants"]} == {"learner-e", "sharer-e2"}
    assert client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, "learner-e")),
                       json={"participant": "learner-e", "response": "accept"}).status_code == 409


def test_unanswered_proposals_expire_and_free_capacity(env):
    settings, client, publisher, clock, _ = env
    publish(publisher, "skill-registered", skill("sharer-f", "partnerships", "share", tz="Asia/Baghdad"))
    publish(publisher, "skill-registered", skill("learner-f", "partnerships", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-f"))
    matcher = client.application.config["LC_SERVICE_LAYER"]
    assert matcher.expire() == 0  # not yet
    clock.now += timedelta(days=8)
    try:
        assert matcher.expire() >= 1
    finally:
        clock.now -= timedelta(days=8)
    assert client.get(f"/matches/{match['id']}", headers=STAFF_HEADERS).get_json()["status"] == "expired"
    assert matcher.store.loads.find_one({"_id": "sharer-f"})["open"] == 0
    late = client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, "learner-f")),
                       json={"participant": "learner-f", "response": "accept"})
    assert late.status_code == 409
    [expired] = eventually(lambda: events_of(settings, "match-declined", match["id"]))
    assert expired["data"]["cause"] == "expired" and expired["data"]["participant_id"] is None
    assert client.get("/stats").get_json()["expired"] >= 1


def test_withdrawing_removes_the_person_and_closes_their_proposals(env):
    settings, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-g", "team-management", "share", tz="Asia/Amman"))
    publish(publisher, "skill-registered", skill("learner-g", "team-management", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-g"))
    publish(publisher, "participant-withdrawn", {"participant_id": "learner-g", "revision": 2,
                                                 "withdrawn_at": "2026-11-24T12:00:00Z"})
    eventually(lambda: client.get(f"/matches/{match['id']}", headers=STAFF_HEADERS).get_json()["status"]
               == "withdrawn")
    store = client.application.config["LC_SERVICE_LAYER"].store
    assert store.candidates.count_documents({"participant_id": "learner-g"}) == 0
    assert store.loads.find_one({"_id": "sharer-g"})["open"] == 0
    publish(publisher, "skill-registered", skill("learner-g", "fundraising", "learn", revision=1))  # late, ignored
    [event] = eventually(lambda: events_of(settings, "match-declined", match["id"]))
    assert event["data"]["participant_id"] == "learner-g"
    assert store.candidates.count_documents({"participant_id": "learner-g"}) == 0


def test_withdrawing_an_interest_closes_its_open_proposal(env):
    _, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-h", "metrics-tools", "share", tz="Asia/Amman"))
    publish(publisher, "skill-registered", skill("learner-h", "metrics-tools", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-h"))
    publish(publisher, "skill-withdrawn", {"participant_id": "learner-h", "revision": 2, "topic": "metrics-tools",
                                           "direction": "learn"})
    eventually(lambda: client.get(f"/matches/{match['id']}", headers=STAFF_HEADERS).get_json()["status"]
               == "withdrawn")


def test_a_sharer_with_no_room_gets_no_proposal(env):
    settings, client, publisher, _, _ = env
    assert client.put("/sharers/sharer-i/capacity", json={"capacity": 0},
                      headers=auth(token(settings, "sharer-i"))).status_code == 403
    assert client.put("/sharers/sharer-i/capacity", json={"capacity": -1},
                      headers=STAFF_HEADERS).status_code == 422
    assert client.put("/sharers/sharer-i/capacity", json={"capacity": 0},
                      headers=STAFF_HEADERS).get_json() == {"participant": "sharer-i", "capacity": 0, "open": 0}
    publish(publisher, "skill-registered", skill("sharer-i", "query-tools", "share", tz="Asia/Amman"))
    eventually(lambda: client.application.config["LC_SERVICE_LAYER"].store.candidates.find_one(
        {"_id": "sharer-i:query-tools:share"}))
    publish(publisher, "skill-registered", skill("learner-i", "query-tools", "learn"))
    publish(publisher, "skill-registered", skill("learner-i", "growth-paths", "learn", revision=2))
    eventually(lambda: client.application.config["LC_SERVICE_LAYER"].store.candidates.find_one(
        {"_id": "learner-i:growth-paths:learn"}))  # learner-i's first event has been handled too
    assert matches_of(client, "learner-i") == []


def test_two_workers_never_put_a_sharer_over_capacity(servers):
    settings = namespaced_settings(servers)
    config = MatcherConfig(sharer_capacity=2, proposal_threshold=0)
    publisher = Publisher(settings, "test")
    store = database(settings, "matcher")
    with running(build_worker(settings, config), build_worker(settings, config)):
        publish(publisher, "skill-registered", skill("busy-sharer", "fundraising", "share", tz="Asia/Amman"))
        eventually(lambda: store.candidates.find_one({"_id": "busy-sharer:fundraising:share"}))
        for i in range(24):  # spread over every partition, so both workers propose at once
            publish(publisher, "skill-registered", skill(f"eager-{i}", "fundraising", "learn"))
        eventually(lambda: store.candidates.count_documents({"direction": "learn"}) == 24, timeout=60)
    publisher.close()
    # both workers have stopped, so every handler has finished
    assert store.matches.count_documents({"status": "proposed"}) == 2
    assert store.loads.find_one({"_id": "busy-sharer"})["open"] == 2
    assert len(read_topic(settings, settings.topic_name("match-proposed"), expected=2, timeout=5)) == 2


def test_racing_reservations_never_exceed_capacity(servers):
    """Many proposals for one sharer at the same moment, from two matcher instances: the
    conditional update in MongoDB lets exactly `capacity` of them through."""
    settings = namespaced_settings(servers)
    config = MatcherConfig(sharer_capacity=3)
    first, second = (create_app(settings, config).config["LC_SERVICE_LAYER"] for _ in range(2))
    their_sharer = {**skill("raced", "advocacy", "share"), "_id": "raced:advocacy:share"}
    first.ensure_loads(["raced"])
    start = threading.Barrier(12)

    def propose(matcher, i):
        learner = skill(f"racer-{i}", "advocacy", "learn")
        edge = Edge(learner, their_sharer, 5.0, "ar")
        start.wait()
        connection = {"sharer": their_sharer, "learners": [edge], "language": "ar"}
        return in_transaction(matcher.store.db, lambda s: matcher.reserve(s, [connection], None))[0]

    with ThreadPoolExecutor(12) as pool:
        made = list(pool.map(lambda i: propose(first if i % 2 else second, i), range(12)))
    assert sum(match is not None for match in made) == 3
    assert first.store.loads.find_one({"_id": "raced"})["open"] == 3
    assert first.store.matches.count_documents({"participants.id": "raced"}) == 3


def test_a_reissued_token_retires_the_old_one(env):
    settings, client, publisher, _, _ = env
    [match] = matches_of(client, "learner-a")
    old = issue_participant_token(settings, "learner-a", now=time.time() - 3600)
    assert client.get("/matches?participant=learner-a", headers=auth(old)).status_code == 200
    reissued_at = datetime.fromtimestamp(time.time() - 60, timezone.utc).isoformat()
    publish(publisher, "participant-updated", {
        "participant_id": "learner-a", "revision": 2, "username": "learner-a", "name": "Learner A",
        "email": "learner-a@example.org", "languages": ["ar", "en"], "timezone": "Africa/Cairo", "region": "mena",
        "group": {"name": "Group of learner-a", "type": "user_group"}, "role": "volunteer", "purpose": "organising",
        "interests": [{"topic": "budget-development", "direction": "learn"}],
        "consent": {"public_profile": False, "share_contact": True, "recording": False},
        "registered_at": "2026-11-01T10:00:00Z", "tokens_valid_after": reissued_at})
    eventually(lambda: client.get("/matches?participant=learner-a", headers=auth(old)).status_code == 401)
    assert client.post(f"/matches/{match['id']}/respond", headers=auth(old),
                       json={"participant": "learner-a", "response": "decline"}).status_code == 401
    assert client.post(f"/matches/{match['id']}/respond", data={"participant": "learner-a", "response": "decline",
                                                               "token": old}).status_code == 401
    assert client.get(f"/matches/{match['id']}", headers=auth(old)).status_code == 401
    assert client.get("/matches?participant=learner-a", headers=auth(token(settings, "learner-a"))).status_code == 200
