"""Rounds over the HTTP API: optimal proposals grouped into connections, reasons for everyone
left out, one round at a time."""
from __future__ import annotations

import pytest

from shared.bus import Publisher
from shared.tokens import issue_staff_token
from shared.mongo import database
from services.matcher.app import create_app
from services.matcher.config import MatcherConfig
from services.matcher.worker import build_worker
from tests.integration.matcher.helpers import Clock, events_of, matches_of, publish, skill, token
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    config = MatcherConfig(proposal_threshold=1e9)  # no incremental proposals: everyone waits for the round
    client = create_app(settings, config, clock).test_client()
    publisher = Publisher(settings, "test")
    with running(build_worker(settings, config, clock)):
        publish(publisher, "skill-registered", skill("amina", "fundraising", "share", languages=("ar", "fr"),
                                                     tz="Africa/Tunis", region="mena"))
        for i in range(5):
            publish(publisher, "skill-registered", skill(f"arabic-{i}", "fundraising", "learn", languages=("ar",)))
        publish(publisher, "skill-registered", skill("french", "fundraising", "learn", languages=("fr",),
                                                     tz="Africa/Dakar", region="ssa"))
        publish(publisher, "skill-registered", skill("spanish", "fundraising", "learn", languages=("es",),
                                                     tz="America/Lima", region="lac"))
        publish(publisher, "skill-registered", skill("lonely", "query-tools", "learn"))
        eventually(lambda: client.get("/stats").get_json()["learn_interests"] == 8)
        yield settings, client, clock
    publisher.close()


def run_round(client, **body):
    """A round is computed by the worker: POST answers 202 at once, GET shows the result."""
    response = client.post("/rounds", headers=STAFF_HEADERS, json=body)
    assert response.status_code == 202 and response.get_json()["status"] == "requested"
    round_id = response.get_json()["id"]
    return eventually(lambda: (lambda doc: doc if doc["status"] in ("completed", "preview", "failed") else None)(
        client.get(f"/rounds/{round_id}", headers=STAFF_HEADERS).get_json()), timeout=60)


def test_a_round_proposes_grouped_connections_and_says_why_others_wait(env):
    settings, client, _ = env
    result = run_round(client)
    assert result["status"] == "completed" and result["learners"] == 8 and result["proven_optimal"] is True
    matches = [client.get(f"/matches/{mid}", headers=STAFF_HEADERS).get_json() for mid in result["proposals"]]
    shapes = sorted((m["language"], sum(p["role"] == "learner" for p in m["participants"])) for m in matches)
    assert shapes == [("ar", 2), ("ar", 3), ("fr", 1)]  # three connections: amina's capacity, at most four people
    assert all(m["round_id"] == result["id"] and m["status"] == "proposed" for m in matches)
    assert {(u["participant"], u["reason"]) for u in result["unmatched"]} == {
        ("spanish", "no_common_language"), ("lonely", "no_sharer_for_topic")}
    assert client.get(f"/rounds/{result['id']}", headers=STAFF_HEADERS).get_json() == result
    biggest = next(m for m in matches if len(m["participants"]) == 4)
    [event] = eventually(lambda: events_of(settings, "match-proposed", biggest["id"]))
    assert len(event["data"]["participants"]) == 4 and event["data"]["round_id"] == result["id"]
    # a second round leaves alone everyone who already has a proposal
    again = run_round(client)
    assert again["proposals"] == [] and again["learners"] == 2
    assert client.get("/stats").get_json()["proposed"] == 3


def test_one_round_at_a_time(env):
    settings, client, clock = env
    locks = database(settings, "matcher").round_locks
    locks.insert_one({"_id": "round", "round_id": "someone-else"})  # a round left by a process that died
    first = client.post("/rounds", headers=STAFF_HEADERS)  # its lock names no round: cleared
    assert first.status_code == 202
    refused = client.post("/rounds", headers=STAFF_HEADERS)
    assert refused.status_code in (202, 409)  # 409 unless the worker finished the first already
    if refused.status_code == 409:
        assert "running" in refused.get_json()["message"]
    eventually(lambda: client.get(f"/rounds/{first.get_json()['id']}", headers=STAFF_HEADERS).get_json()["status"]
               == "completed", timeout=60)
    assert run_round(client)["status"] == "completed"


def test_rounds_are_for_staff(env):
    settings, client, _ = env
    assert client.post("/rounds").status_code == 401
    assert client.post("/rounds", headers=auth(token(settings, "amina"))).status_code == 403
    translator = auth(issue_staff_token(settings, "tess", ["translator"]))
    assert client.post("/rounds", headers=translator).status_code == 403  # the working group's
    assert client.put("/sharers/amina/capacity", json={"capacity": 2}, headers=translator).status_code == 403
    working_group = auth(issue_staff_token(settings, "wendy", ["working_group"]))
    assert client.get("/rounds/nope", headers=working_group).status_code == 404
    assert client.get("/rounds/nope", headers=STAFF_HEADERS).status_code == 404
    assert matches_of(client, "spanish") == []
