"""The operator's commands against the real broker and database: `letsconnect status` sees the lag
a stopped worker leaves, and `letsconnect dlq` re-drives a poison event once its cause is fixed."""
from __future__ import annotations

import json

import pytest
from pymongo import UpdateOne

from letsconnect.cli import main as cli_main
from letsconnect.servers import free_port
from shared.bus import PermanentError, Publisher
from shared.config import SERVICES
from shared.events import make_event
from shared.inbox import IdempotentHandler, Inbox
from shared.mongo import database
from shared.worker import Worker
from tests.support import eventually, running

TOPIC = "participant-withdrawn"


@pytest.fixture
def cli(settings, monkeypatch, capsys):
    """`letsconnect ...` as an operator runs it, configured by LC_* variables for this test's namespace."""
    environment = {"LC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "LC_MONGO_URI": settings.mongo_uri,
                   "LC_DB_PREFIX": settings.db_prefix, "LC_TOPIC_PREFIX": settings.topic_prefix,
                   "LC_STAFF_TOKENS": ",".join(settings.staff_tokens)}
    environment.update({f"LC_{service.upper()}_PORT": str(free_port()) for service in SERVICES})  # no APIs here
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    def run(*argv: str) -> tuple[int, str]:
        capsys.readouterr()
        code = cli_main(list(argv))
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return run


def withdrawal(pid: str) -> dict:
    return make_event(TOPIC, subject=pid, data={"participant_id": pid, "revision": 2,
                                                "withdrawn_at": "2026-11-24T10:00:00Z"}, source="registry")


def counting_worker(settings, refuse: set[str] = frozenset()) -> Worker:
    """A matcher-group worker that counts each withdrawal it applies; it cannot handle `refuse`."""
    db = database(settings, "matcher")

    def effect(session, envelope):
        if envelope["subject"] in refuse:
            raise PermanentError(f"no rule for participant {envelope['subject']} yet")
        db.applied.update_one({"_id": envelope["subject"]}, {"$inc": {"times": 1}}, upsert=True, session=session)

    return Worker("matcher", settings, db, handlers={TOPIC: IdempotentHandler(Inbox(db, "matcher"), effect=effect)},
                  relay=False)


def applied(settings) -> dict[str, int]:
    return {doc["_id"]: doc["times"] for doc in database(settings, "matcher").applied.find()}


def matcher_lag(cli) -> tuple[int, list[dict]]:
    code, out = cli("status", "--json")
    assert code == 0, out
    rows = [row for row in json.loads(out)["lag"] if row["service"] == "matcher" and row["topic"] == TOPIC]
    return sum(row["lag"] for row in rows), rows


def test_status_shows_the_lag_a_stopped_worker_leaves_and_that_its_restart_clears(settings, cli):
    publisher = Publisher(settings, "test")
    with running(counting_worker(settings)):
        for i in range(4):
            publisher.publish(withdrawal(f"before-{i}"))
        eventually(lambda: len(applied(settings)) == 4, message="the running worker applies every event")
        eventually(lambda: matcher_lag(cli)[1] and matcher_lag(cli)[0] == 0, message="no lag while it keeps up")

    for i in range(5):  # the worker is stopped: these wait on the topic
        publisher.publish(withdrawal(f"while-stopped-{i}"))
    lag, rows = matcher_lag(cli)
    assert lag == 5
    assert {row["partition"] for row in rows} == set(range(settings.partitions))  # every partition listed
    code, text = cli("status")
    assert "matcher" in text and "5 behind" in text

    with running(counting_worker(settings)):
        eventually(lambda: len(applied(settings)) == 9, message="the restarted worker catches up")
        eventually(lambda: matcher_lag(cli)[0] == 0, message="the lag is gone once it has caught up")
    publisher.close()
    assert set(applied(settings).values()) == {1}


def test_a_poison_event_is_parked_then_replayed_once_after_the_fix_and_a_second_replay_changes_nothing(
        settings, cli):
    publisher = Publisher(settings, "test")
    poison = withdrawal("poison")
    with running(counting_worker(settings, refuse={"poison"})):
        for event in (withdrawal("good-1"), poison, withdrawal("good-2")):
            publisher.publish(event)
        eventually(lambda: set(applied(settings)) == {"good-1", "good-2"}, message="the others are applied")

        def parked():
            code, out = cli("dlq", "list", TOPIC, "--json")
            return json.loads(out)["items"] if code == 0 else []

        items = eventually(parked, message="the poison event is parked")
    assert [item["event_id"] for item in items] == [poison["id"]]
    assert "no rule for participant poison" in items[0]["error"]
    assert "event" not in items[0]  # the event's content only on request (it may hold personal data)
    code, text = cli("dlq", "list", TOPIC)
    assert poison["id"] in text and "no rule for participant poison" in text

    # the cause is fixed: the handler now knows what to do with it
    with running(counting_worker(settings)):
        code, out = cli("dlq", "replay", TOPIC, "--id", poison["id"])
        assert code == 0 and f"replayed {items[0]['position']}" in out
        eventually(lambda: applied(settings).get("poison") == 1, message="the replayed event is applied")

        code, out = cli("dlq", "replay", TOPIC, "--id", poison["id"])
        assert code == 0
        # once the group has committed past the second copy, it has seen it: still one effect
        eventually(lambda: matcher_lag(cli)[0] == 0 and sum(row["end"] for row in matcher_lag(cli)[1]) == 5,
                   message="the second replay is consumed")
        assert applied(settings) == {"good-1": 1, "good-2": 1, "poison": 1}
        assert database(settings, "matcher").inbox.count_documents({}) == 3

    code, out = cli("dlq", "list", TOPIC, "--json")
    replays = json.loads(out)["items"][0]["replays"]
    assert len(replays) == 2  # both replays are recorded
    code, out = cli("dlq", "replay", TOPIC, "--all")
    assert code == 0 and "nothing to replay" in out  # --all leaves what was replayed before alone
    code, out = cli("dlq", "replay", TOPIC, "--id", "no-such-event")
    assert code == 1 and "no parked event" in out
    publisher.close()
