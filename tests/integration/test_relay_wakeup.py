"""The outbox relay is woken by each write (a change stream on its outbox), not by a timer: with
polling and sweeps set to a minute, each write still reaches Kafka within seconds. In poll mode
(the embedded stack's) it opens no stream and still publishes every write, and a write committed in
the relay's own process (its bell) or in another process of its host (its doorbell) rings it awake
however long it would otherwise wait."""
from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from shared.bus import read_topic
import pytest

from shared.mongo import after_commit, database, in_transaction
from shared.outbox import Outbox
from shared.outbox_wake import OutboxWakeup, doorbell_path
from shared.worker import Worker
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]


def withdraw(settings, pid: str) -> None:
    db = database(settings, "registry")
    outbox = Outbox(db, "registry")
    in_transaction(db, lambda session: outbox.add(session, "participant-withdrawn", {
        "participant_id": pid, "revision": 2, "withdrawn_at": "2026-11-24T10:00:00Z"}))


def published(settings) -> list[str]:
    return [json.loads(record.value)["subject"]
            for record in read_topic(settings, settings.topic_name("participant-withdrawn"), timeout=3)]


def test_a_write_wakes_the_relay_when_polling_would_take_a_minute(settings):
    relay_worker = Worker("registry", settings.with_overrides(outbox_poll_ms=60_000), database(settings, "registry"),
                          handlers={})
    relay = relay_worker.relay
    relay.wakeup = OutboxWakeup(relay.outbox.collection, poll_seconds=60, sweep_seconds=60)
    relay_worker.start()
    try:
        eventually(lambda: relay.wakeup._stream is not None, message="the relay watches its outbox")
        first = uuid.uuid4().hex
        withdraw(settings, first)
        eventually(lambda: published(settings) == [first], timeout=20, message="the first write is published")
        second = uuid.uuid4().hex  # the relay is idle again, waiting on the stream
        withdraw(settings, second)
        eventually(lambda: sorted(published(settings)) == sorted([first, second]), timeout=20,
                   message="the next write is published too")
        assert Outbox(database(settings, "registry"), "registry").backlog() == 0
    finally:
        relay_worker.stop()


def test_a_polling_relay_opens_no_change_stream_and_publishes_every_write(settings):
    relay_worker = Worker("registry", settings.with_overrides(outbox_wake="poll"), database(settings, "registry"),
                          handlers={})
    relay_worker.start()
    try:
        written = [uuid.uuid4().hex for _ in range(3)]
        for pid in written:
            withdraw(settings, pid)
        eventually(lambda: sorted(published(settings)) == sorted(written), timeout=20,
                   message="every write is published")
        assert relay_worker.relay.wakeup._stream is None
    finally:
        relay_worker.stop()


WRITE_IN_ANOTHER_PROCESS = """
import json, sys
from shared.config import Settings
from tests.integration.test_relay_wakeup import withdraw
withdraw(Settings(**json.loads(sys.argv[1])), sys.argv[2])
"""


def withdraw_elsewhere(settings, pid: str) -> None:
    """As an API's gunicorn worker commits: another process of the host, which has no relay."""
    subprocess.run([sys.executable, "-c", WRITE_IN_ANOTHER_PROCESS, json.dumps(asdict(settings)), pid],
                   cwd=ROOT, check=True, timeout=60)


@pytest.mark.parametrize("write", [withdraw, withdraw_elsewhere], ids=["its own process (bell)",
                                                                        "another process (doorbell)"])
def test_a_polling_relay_is_rung_by_a_commit(settings, write):
    slow = settings.with_overrides(outbox_wake="poll", outbox_poll_ms=60_000, outbox_idle_poll_ms=60_000)
    relay_worker = Worker("registry", slow, database(settings, "registry"), handlers={})
    relay_worker.start()
    try:
        eventually(lambda: relay_worker.relay._lease_until > 0, message="the relay holds its lease")
        time.sleep(0.5)  # its first read found nothing: it now waits a minute for the next one
        pid = uuid.uuid4().hex
        write(settings, pid)
        eventually(lambda: published(settings) == [pid], timeout=10,
                   message="the committed write is published long before the next poll")
    finally:
        relay_worker.stop()
    assert not doorbell_path(relay_worker.relay.outbox.collection.full_name).exists()  # gone with the relay


def test_after_commit_runs_once_the_writes_are_visible_and_never_for_a_failed_transaction(settings):
    db = database(settings, "registry")
    key = uuid.uuid4().hex
    seen_by_hook = []

    def hook():
        seen_by_hook.append(db.probe.find_one({"_id": key}) is not None)  # read outside the transaction

    def work(session):
        db.probe.insert_one({"_id": key}, session=session)
        after_commit(hook)
        after_commit(hook)  # the same hook twice runs once

    in_transaction(db, work)
    assert seen_by_hook == [True]

    def failing(session):
        db.probe.insert_one({"_id": uuid.uuid4().hex}, session=session)
        after_commit(hook)
        raise ValueError("refused")

    with pytest.raises(ValueError):
        in_transaction(db, failing)
    assert seen_by_hook == [True]
