"""The matcher's staff side for the console (issue 15): a working-group member previews a round
without writing anything, commits it; an ambassador is refused; the round history and the audit
log say who did what; outcome summaries are listed for the working group."""
from __future__ import annotations

import pytest

from shared.bus import Publisher
from shared.tokens import issue_staff_token
from services.matcher.app import create_app
from services.matcher.config import MatcherConfig
from services.matcher.worker import build_worker
from tests.integration.matcher.helpers import Clock, publish, skill, token
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    config = MatcherConfig(proposal_threshold=1e9)  # everyone waits for the round
    client = create_app(settings, config, clock).test_client()
    publisher = Publisher(settings, "test")
    with running(build_worker(settings, config, clock)):
        publish(publisher, "skill-registered", skill("sharer-s", "fundraising", "share", languages=("en",)))
        publish(publisher, "skill-registered", skill("learner-s", "fundraising", "learn", languages=("en",)))
        publish(publisher, "skill-registered", skill("alone-s", "query-tools", "learn", languages=("en",)))
        eventually(lambda: client.get("/stats").get_json()["learn_interests"] == 2)
        yield settings, client
    publisher.close()


def finished(client, headers, round_id):
    return eventually(lambda: (lambda doc: doc if doc["status"] in ("completed", "preview", "failed") else None)(
        client.get(f"/rounds/{round_id}", headers=headers).get_json()), timeout=60)


def test_a_member_previews_then_runs_a_round_an_ambassador_cannot_and_the_audit_names_them(env):
    settings, client = env
    member = auth(issue_staff_token(settings, "wg-member", ["working_group"]))
    ambassador = auth(issue_staff_token(settings, "amb-1", ["ambassador"]))
    coordinator = auth(issue_staff_token(settings, "coord-1", ["coordinator"]))

    refused = client.post("/rounds", json={}, headers=ambassador)
    assert refused.status_code == 403 and "working_group" in refused.get_json()["message"]
    assert client.get("/rounds", headers=ambassador).status_code == 403

    asked = client.post("/rounds", json={"dry_run": True}, headers=member)
    assert asked.status_code == 202, asked.get_json()
    preview = finished(client, member, asked.get_json()["id"])
    [planned] = preview["preview"]
    assert preview["status"] == "preview" and (planned["sharer"], planned["learners"]) == ("sharer-s", ["learner-s"])
    assert planned["reasons"]["learner-s"]  # why these two, in words
    assert {u["participant"] for u in preview["unmatched"]} == {"alone-s"}
    assert client.get("/matches?participant=learner-s", headers=STAFF_HEADERS).get_json()["items"] == []  # nothing written

    committed = client.post(f"/rounds/{preview['id']}/commit", headers=member)
    assert committed.status_code == 202, committed.get_json()
    done = finished(client, member, preview["id"])
    assert done["status"] == "completed" and len(done["proposals"]) == 1

    [latest] = client.get("/rounds?limit=1", headers=member).get_json()["items"]
    assert (latest["id"], latest["requested_by"], latest["committed_by"]) == (preview["id"], "wg-member", "wg-member")

    assert client.get("/audit", headers=member).status_code == 403
    records = client.get("/audit", headers=coordinator).get_json()["items"]
    assert [(r["action"], r["actor"]["id"], r["actor"]["roles"], r["target"]["id"]) for r in records] == [
        ("round.commit", "wg-member", ["working_group"], preview["id"]),
        ("round.preview", "wg-member", ["working_group"], preview["id"])]
    assert [r["action"] for r in client.get("/audit?action=round.preview", headers=coordinator).get_json()["items"]] \
        == ["round.preview"]
    assert client.get("/audit?actor=somebody-else", headers=coordinator).get_json()["items"] == []
    assert client.get("/audit?since=not-a-time", headers=coordinator).status_code == 422

    # the connection's outcome summary, for the working group
    match_id = done["proposals"][0]
    for pid in ("learner-s", "sharer-s"):
        answered = client.post(f"/matches/{match_id}/respond", headers=auth(token(settings, pid)),
                               json={"participant": pid, "response": "accept"})
        assert answered.status_code == 200, answered.get_json()
    summary = client.post(f"/matches/{match_id}/outcome", headers=auth(token(settings, "learner-s")),
                          json={"participant": "learner-s", "summary": "We planned a fundraising drive."})
    assert summary.status_code == 200, summary.get_json()
    [outcome] = client.get("/outcomes?with_summary=true", headers=member).get_json()["items"]
    assert outcome["summary"] == "We planned a fundraising drive." and outcome["status"] == "completed"
    assert client.get("/outcomes?topic=query-tools", headers=member).get_json()["items"] == []
    assert client.get("/outcomes", headers=ambassador).status_code == 403

    # filtered by region: the registry placed both people in the Middle East and North Africa
    assert [o["id"] for o in client.get("/outcomes?region=mena", headers=member).get_json()["items"]] == [match_id]
    assert client.get("/outcomes?region=lac", headers=member).get_json()["items"] == []
    unknown = client.get("/outcomes?region=atlantis", headers=member)
    assert unknown.status_code == 422 and "region" in unknown.get_json()["errors"]["query"]
