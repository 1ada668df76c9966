"""The matcher on the embedded stack: read model from registry events, incremental proposals,
accept / decline / expire / outcome, rounds, and two workers sharing the load."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.auth import issue_participant_token
from shared.bus import Publisher, read_topic
from shared.events import make_event
from shared.mongo import database
from services.matcher.app import create_app
from services.matcher.config import MatcherConfig
from services.matcher.worker import build_worker
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running


class Clock:
    def __init__(self):
        self.now = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def skill(pid, topic, direction, languages=("ar", "en"), tz="Africa/Cairo", region="mena", group=None,
          revision=1):
    return {"participant_id": pid, "revision": revision, "topic": topic, "direction": direction,
            "languages": list(languages), "timezone": tz, "region": region,
            "group": group or {"name": f"Group of {pid}", "type": "user_group"}, "share_contact": True,
            "registered_at": "2026-11-01T10:00:00Z"}


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


def publish(publisher, event_type, data):
    publisher.publish(make_event(event_type, data["participant_id"], data, "registry"))


def matches_of(client, pid):
    return client.get(f"/matches?participant={pid}", headers=STAFF_HEADERS).get_json()["items"]


def token(settings, pid):
    return issue_participant_token(settings, pid)


def test_a_learner_gets_a_proposal_with_reasons_within_moments(env):
    settings, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-a", "budget-development", "share", tz="Asia/Amman"))
    publish(publisher, "skill-registered", skill("learner-a", "budget-development", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-a"))
    assert match["status"] == "proposed" and match["topic"] == "budget-development"
    assert {p["id"]: p["role"] for p in match["participants"]} == {"sharer-a": "sharer", "learner-a": "learner"}
    assert "both speak Arabic" in match["reasons"] and any("UTC" in r for r in match["reasons"])
    proposed = [json.loads(r.value) for r in read_topic(settings, settings.topic_name("match-proposed"), timeout=3)]
    assert any(e["subject"] == match["id"] for e in proposed)


def test_nobody_is_proposed_across_a_hard_rule(env):
    _, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-b", "fundraising", "share", languages=("ja",),
                                                 tz="Asia/Tokyo", region="esea"))
    publish(publisher, "skill-registered", skill("learner-b", "fundraising", "learn", languages=("es",),
                                                 tz="America/Lima", region="lac"))
    publish(publisher, "skill-registered", skill("learner-c", "fundraising", "learn", languages=("ja",),
                                                 group={"name": "Group of sharer-b", "type": "user_group"}))
    publish(publisher, "skill-registered", skill("marker", "fundraising", "learn", languages=("fr",)))
    eventually(lambda: client.get("/stats").get_json()["learn_interests"] >= 4)
    assert matches_of(client, "learner-b") == [] and matches_of(client, "learner-c") == []


def test_everyone_accepts_then_the_outcome_completes_the_connection(env):
    settings, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-d", "governance", "share", tz="Europe/Paris",
                                                 region="nwe", languages=("fr", "ar")))
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
    page = client.get(f"{url}/respond?response=accept&participant=learner-d&token={token(settings, 'learner-d')}")
    assert page.status_code == 200 and b"<form method='post'" in page.data
    assert client.get(url, headers=STAFF_HEADERS).get_json()["status"] == "proposed"  # a GET changes nothing
    first = client.post(f"{url}/respond", headers=auth(token(settings, "learner-d")),
                        json={"participant": "learner-d", "response": "accept"})
    assert first.get_json()["status"] == "proposed"
    form = client.post(f"{url}/respond", data={"participant": "sharer-d", "response": "accept",
                                               "token": token(settings, "sharer-d")})
    assert form.status_code == 200 and form.get_json()["status"] == "confirmed"
    done = client.post(f"{url}/outcome", headers=auth(token(settings, "learner-d")),
                       json={"participant": "learner-d", "summary": "We compared governance documents."})
    assert done.get_json()["status"] == "completed"
    again = client.post(f"{url}/respond", headers=auth(token(settings, "learner-d")),
                        json={"participant": "learner-d", "response": "decline"})
    assert again.status_code == 409
    confirmed = eventually(lambda: [json.loads(r.value) for r in read_topic(
        settings, settings.topic_name("match-confirmed"), timeout=3) if r.key.decode() == match["id"]])
    assert {p["share_contact"] for p in confirmed[0]["data"]["participants"]} == {True}
    eventually(lambda: any(r.key.decode() == match["id"] for r in read_topic(
        settings, settings.topic_name("connection-completed"), timeout=3)))
    assert client.get("/matches/nope", headers=STAFF_HEADERS).status_code == 404


def test_a_decline_frees_the_sharer_and_the_pair_is_never_proposed_again(env):
    settings, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-e", "advocacy", "share", tz="Africa/Tunis"))
    publish(publisher, "skill-registered", skill("learner-e", "advocacy", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-e"))
    declined = client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, "sharer-e")),
                           json={"participant": "sharer-e", "response": "decline", "reason": "no time"})
    assert declined.get_json()["status"] == "declined"
    round_ = client.post("/rounds", headers=STAFF_HEADERS).get_json()
    assert {"participant": "learner-e", "topic": "advocacy", "reason": "declined_before"} in round_["unmatched"]
    assert len(matches_of(client, "learner-e")) == 1
    assert database(settings, "matcher").loads.find_one({"_id": "sharer-e"})["open"] == 0


def test_unanswered_proposals_expire_and_free_capacity(env):
    settings, client, publisher, clock, _ = env
    publish(publisher, "skill-registered", skill("sharer-f", "partnerships", "share", tz="Asia/Baghdad"))
    publish(publisher, "skill-registered", skill("learner-f", "partnerships", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-f"))
    matcher = client.application.config["LC_MATCHER"]
    clock.now += timedelta(days=8)
    try:
        assert matcher.expire() >= 1
    finally:
        clock.now -= timedelta(days=8)
    assert client.get(f"/matches/{match['id']}", headers=STAFF_HEADERS).get_json()["status"] == "expired"
    late = client.post(f"/matches/{match['id']}/respond", headers=auth(token(settings, "learner-f")),
                       json={"participant": "learner-f", "response": "accept"})
    assert late.status_code == 409
    expired = eventually(lambda: [json.loads(r.value) for r in read_topic(
        settings, settings.topic_name("match-declined"), timeout=3) if r.key.decode() == match["id"]])
    assert expired[0]["data"]["cause"] == "expired"


def test_a_round_while_another_runs_is_refused(env):
    settings, client, _, _, _ = env
    locks = database(settings, "matcher").round_locks
    locks.insert_one({"_id": "round", "round_id": "someone-else"})
    try:
        assert client.post("/rounds", headers=STAFF_HEADERS).status_code == 409
    finally:
        locks.delete_one({"_id": "round"})
    assert client.post("/rounds").status_code == 401


def test_withdrawal_removes_the_person_and_closes_their_proposals(env):
    _, client, publisher, _, _ = env
    publish(publisher, "skill-registered", skill("sharer-g", "team-management", "share", tz="Asia/Amman"))
    publish(publisher, "skill-registered", skill("learner-g", "team-management", "learn"))
    [match] = eventually(lambda: matches_of(client, "learner-g"))
    publish(publisher, "participant-withdrawn", {"participant_id": "learner-g", "revision": 2,
                                                 "withdrawn_at": "2026-11-24T12:00:00Z"})
    eventually(lambda: client.get(f"/matches/{match['id']}", headers=STAFF_HEADERS).get_json()["status"]
               == "withdrawn")
    db = client.application.config["LC_MATCHER"].store
    assert db.candidates.count_documents({"participant_id": "learner-g"}) == 0


def test_two_workers_never_put_a_sharer_over_capacity(servers):
    settings = namespaced_settings(servers)
    config = MatcherConfig(sharer_capacity=2, proposal_threshold=0)
    publisher = Publisher(settings, "test")
    publish(publisher, "skill-registered", skill("busy-sharer", "fundraising", "share", tz="Asia/Amman"))
    for i in range(24):
        publish(publisher, "skill-registered", skill(f"eager-{i}", "fundraising", "learn"))
    publisher.close()
    with running(build_worker(settings, config), build_worker(settings, config)):
        store = database(settings, "matcher")
        eventually(lambda: store.candidates.count_documents({"direction": "learn"}) == 24, timeout=60)
        eventually(lambda: store.matches.count_documents({}) >= 2)
        import time

        time.sleep(2)
    open_matches = store.matches.count_documents({"status": "proposed"})
    assert open_matches == 2
    assert store.loads.find_one({"_id": "busy-sharer"})["open"] == 2
