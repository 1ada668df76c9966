"""Rounds computed by the matcher workers: once with two workers, finished without duplicates after
a worker is killed mid-round, fired once per scheduled period, and previewed by a dry run."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shared.bus import Publisher, read_topic
from shared.mongo import database
from services.matcher.app import create_app
from services.matcher.config import MatcherConfig
from services.matcher.store import Store
from services.matcher.worker import build_worker
from tests.integration.matcher.helpers import Clock, publish, skill
from tests.support import STAFF_HEADERS, eventually, namespaced_settings, running

ROOT = Path(__file__).resolve().parents[3]
LANGUAGES = (("ar",), ("ar", "en"), ("fr", "ar"), ("en",), ("es", "en"))
TOPICS = ("fundraising", "governance", "advocacy", "partnerships")


def seed(settings, learners: int, sharers: int, seed_: int = 3) -> None:
    """A population straight into the read model (what the registry's events would build)."""
    rng = random.Random(seed_)
    store = Store(database(settings, "matcher"))
    store.ensure_indexes()

    def person(pid, direction):
        return {**skill(pid, rng.choice(TOPICS), direction, languages=rng.choice(LANGUAGES),
                        group={"name": f"group-{rng.randrange(40)}", "type": "user_group"}), "active": True}
    people = [person(f"l{i}", "learn") for i in range(learners)] + [person(f"s{i}", "share") for i in range(sharers)]
    store.candidates.insert_many([{"_id": f"{p['participant_id']}:{p['topic']}:{p['direction']}", **p}
                                  for p in people])


def request(client, **body) -> str:
    response = client.post("/rounds", headers=STAFF_HEADERS, json=body)
    assert response.status_code == 202, response.get_json()
    return response.get_json()["id"]


def finished(client, round_id, statuses=("completed",), timeout=120):
    return eventually(lambda: (lambda doc: doc if doc["status"] in statuses else None)(
        client.get(f"/rounds/{round_id}", headers=STAFF_HEADERS).get_json()), timeout=timeout)


def assert_no_duplicates(settings, round_doc):
    store = Store(database(settings, "matcher"))
    matches = list(store.matches.find({"round_id": round_doc["id"]}))
    assert sorted(m["_id"] for m in matches) == sorted(round_doc["proposals"])
    learners = Counter(p["id"] for m in matches for p in m["participants"] if p["role"] == "learner")
    assert learners and max(learners.values()) == 1  # no learner proposed twice
    for sharer, count in Counter(p["id"] for m in matches for p in m["participants"] if p["role"] == "sharer").items():
        assert count <= store.loads.find_one({"_id": sharer})["open"] <= 3
    events = read_topic(settings, settings.topic_name("match-proposed"), expected=len(matches), timeout=60)
    # delivery is at-least-once: a relay killed between publishing and marking may publish again, but
    # only the same event (same id), which consumers' inboxes drop; never a second, different proposal
    announced = {}
    for record in events:
        envelope = json.loads(record.value)
        announced.setdefault(envelope["data"]["match_id"], set()).add(envelope["id"])
    assert set(announced) == {m["_id"] for m in matches}
    assert max(len(event_ids) for event_ids in announced.values()) == 1


def test_a_round_requested_while_two_workers_run_is_computed_once(servers):
    settings = namespaced_settings(servers)
    config = MatcherConfig(round_poll_seconds=0.2, proposal_threshold=1e9)
    seed(settings, 120, 30)
    client = create_app(settings, config).test_client()
    with running(build_worker(settings, config), build_worker(settings, config)):
        round_id = request(client)
        assert client.post("/rounds", headers=STAFF_HEADERS).status_code == 409  # one round at a time
        result = finished(client, round_id)
        assert result["progress"]["attempts"] == 1 and result["proposals"]
        assert result["progress"]["written"] == result["progress"]["planned"]
        assert_no_duplicates(settings, result)


def test_a_worker_killed_mid_round_leaves_no_half_round(servers):
    settings = namespaced_settings(servers)
    seed(settings, 300, 80)
    env = {**os.environ, "LC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "LC_MONGO_URI": settings.mongo_uri,
           "LC_DB_PREFIX": settings.db_prefix, "LC_TOPIC_PREFIX": settings.topic_prefix,
           "LC_MATCHER_ROUND_BATCH": "2", "LC_MATCHER_ROUND_LEASE_SECONDS": "3",
           "LC_MATCHER_ROUND_POLL_SECONDS": "0.2", "LC_MATCHER_PROPOSAL_THRESHOLD": "1e9"}
    process = subprocess.Popen([sys.executable, "-m", "services.matcher.worker"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    config = MatcherConfig(round_batch=2, round_lease_seconds=3, round_poll_seconds=0.2, proposal_threshold=1e9)
    client = create_app(settings, config).test_client()
    try:
        round_id = request(client)
        # the process is writing the round's proposals (some batches written, most not): kill it
        eventually(lambda: (client.get(f"/rounds/{round_id}", headers=STAFF_HEADERS).get_json()["progress"]
                            ["written"] or 0) >= 4, timeout=120, interval=0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
    halfway = client.get(f"/rounds/{round_id}", headers=STAFF_HEADERS).get_json()
    assert halfway["status"] == "running" and halfway["progress"]["written"] < halfway["progress"]["planned"]
    with running(build_worker(settings, config)):  # the next lease holder finishes it
        # the killed worker's open transaction holds the round until the database aborts it (60 s)
        result = finished(client, round_id, timeout=240)
        assert result["progress"]["attempts"] == 2
        assert result["progress"]["written"] == result["progress"]["planned"]
        assert_no_duplicates(settings, result)


def test_scheduled_rounds_fire_once_per_period_with_two_workers(servers):
    settings = namespaced_settings(servers)
    seed(settings, 30, 10)
    clock = Clock()
    clock.now = datetime(2026, 12, 7, 14, 2, tzinfo=timezone.utc)  # first Monday of December, 14:02 UTC
    config = MatcherConfig(round_schedule="0 14 * * 1#1", schedule_check_seconds=0.1, round_poll_seconds=0.2,
                           proposal_threshold=1e9)
    client = create_app(settings, config, clock).test_client()
    store = Store(database(settings, "matcher"))
    first, second = build_worker(settings, config, clock), build_worker(settings, config, clock)
    with running(first, second):
        december = eventually(lambda: list(store.rounds.find({"requested_by": "schedule"})))
        finished(client, december[0]["_id"])
        assert create_app(settings, config, clock).config["LC_SERVICE_LAYER"].schedule_tick() is None  # fired
        clock.now = datetime(2026, 12, 20, 9, 0, tzinfo=timezone.utc)  # nothing due mid-month
        assert create_app(settings, config, clock).config["LC_SERVICE_LAYER"].schedule_tick() is None
        clock.now = datetime(2027, 1, 4, 14, 0, 30, tzinfo=timezone.utc)  # first Monday of January
        january = eventually(lambda: list(store.rounds.find({"requested_by": "schedule",
                                                             "scheduled_for": {"$gte": clock.now - timedelta(1)}})))
        finished(client, january[0]["_id"])
    rounds = list(store.rounds.find({"requested_by": "schedule"}))
    assert sorted(r["scheduled_for"].replace(tzinfo=timezone.utc) for r in rounds) == [
        datetime(2026, 12, 7, 14, tzinfo=timezone.utc), datetime(2027, 1, 4, 14, tzinfo=timezone.utc)]


def test_a_dry_run_writes_nothing_and_its_preview_commits_while_nothing_changed(servers):
    settings = namespaced_settings(servers)
    seed(settings, 40, 12)
    config = MatcherConfig(round_poll_seconds=0.2, proposal_threshold=1e9)
    client = create_app(settings, config).test_client()
    store = Store(database(settings, "matcher"))
    publisher = Publisher(settings, "test")

    def written():
        return {name: store.db[name].count_documents({}) for name in ("matches", "claims", "loads", "blocks",
                                                                      "outbox")}
    with running(build_worker(settings, config)):
        before = written()
        preview = finished(client, request(client, dry_run=True), ("preview",))
        assert preview["preview"] and preview["proposals"] == [] and preview["dry_run"]
        assert written() == before  # nothing proposed, reserved or announced
        assert read_topic(settings, settings.topic_name("match-proposed"), timeout=1) == []
        committed = client.post(f"/rounds/{preview['id']}/commit", headers=STAFF_HEADERS)
        assert committed.status_code == 202
        result = finished(client, preview["id"])
        matches = [store.match(mid) for mid in result["proposals"]]
        assert sorted((m["participants"][0]["id"], m["language"], sorted(p["id"] for p in m["participants"][1:]))
                      for m in matches) == sorted((c["sharer"], c["language"], sorted(c["learners"]))
                                                  for c in preview["preview"])
        assert client.post(f"/rounds/{preview['id']}/commit", headers=STAFF_HEADERS).status_code == 409
        stale = finished(client, request(client, dry_run=True), ("preview",))
        publish(publisher, "skill-registered", skill("newcomer", "fundraising", "learn"))
        eventually(lambda: store.candidate("newcomer:fundraising:learn"))
        refused = client.post(f"/rounds/{stale['id']}/commit", headers=STAFF_HEADERS)
        assert refused.status_code == 409 and "changed" in refused.get_json()["message"]
    publisher.close()
