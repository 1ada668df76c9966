"""The outbox as the service's durable log: published events are kept for the topics' retention,
published again when the broker comes back empty, and an erased person leaves them."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from pymongo import InsertOne

from letsconnect.servers import free_port, tansu_command, wait_for_port
from shared.bus import Publisher, ensure_topics, read_topic
from shared.events import make_event
from shared.inbox import IdempotentHandler, Inbox, apply_together
from shared.mongo import database, in_transaction
from shared.outbox import Outbox, OutboxRelay
from shared.pseudonyms import erased_key
from shared.worker import EXIT_BROKER_RESET, Worker, erasing
from tests.integration.test_bus_guarantees import Applier, participant
from tests.support import eventually, namespaced_settings, running


def withdrawn(pid: str) -> dict:
    return {"participant_id": pid, "revision": 2, "withdrawn_at": "2026-11-30T10:00:00Z"}


def stage(outbox: Outbox, *events: tuple[str, dict]) -> None:
    in_transaction(outbox.db, lambda session: outbox.add_many(session, list(events)))


def logged_subjects(outbox: Outbox) -> list[tuple[str, str]]:
    return [(e["type"], e["subject"]) for row in outbox.log.find().sort("_id", 1) for e in row["events"]]


def test_published_events_are_kept_in_the_log_and_no_longer_pending(settings):
    outbox = Outbox(database(settings, "registry"), "registry")
    pids = [uuid.uuid4().hex for _ in range(3)]
    for pid in pids:
        stage(outbox, ("participant-registered", participant(pid)))
    publisher = Publisher(settings, "relay")
    assert OutboxRelay(outbox, publisher).run_once() == 3
    publisher.close()
    assert outbox.backlog() == 0 and outbox.retained() == 3
    assert logged_subjects(outbox) == [("participant-registered", pid) for pid in pids]
    assert all(row["published_at"] for row in outbox.log.find())


def test_an_erased_person_leaves_the_retained_log_but_the_erasure_event_stays(settings):
    outbox = Outbox(database(settings, "registry"), "registry")
    leaving, staying = uuid.uuid4().hex, uuid.uuid4().hex
    publisher = Publisher(settings, "relay")
    relay = OutboxRelay(outbox, publisher)
    contact = {"name": "Leila Leaving", "email": "leila@example.org"}
    stage(outbox, ("participant-registered", {**participant(leaving), **contact}))
    stage(outbox, ("participant-registered", participant(staying)))
    relay.run_once()  # the registration is published and retained first ...
    stage(outbox, ("participant-updated", {**participant(leaving, revision=2), **contact}))
    stage(outbox, ("participant-withdrawn", withdrawn(leaving)))
    relay.run_once()  # ... then the change and the withdrawal, in one batch
    publisher.close()
    assert logged_subjects(outbox) == [("participant-registered", staying), ("participant-withdrawn", leaving)]
    retained = json.dumps([row for row in outbox.log.find()], default=str, ensure_ascii=False)
    assert "leila@example.org" not in retained and "Leila Leaving" not in retained


def test_several_people_erased_in_one_batch_each_leave_the_log_and_stay_forgotten(settings):
    outbox = Outbox(database(settings, "registry"), "registry")
    leaving, staying = [uuid.uuid4().hex for _ in range(3)], uuid.uuid4().hex
    publisher = Publisher(settings, "relay")
    relay = OutboxRelay(outbox, publisher)
    for pid in [*leaving, staying]:
        stage(outbox, ("participant-registered", participant(pid)))
    relay.run_once()
    for pid in leaving:
        stage(outbox, ("participant-withdrawn", withdrawn(pid)))
    assert relay.run_once() == 3  # the three withdrawals in one batch
    for pid in leaving:  # late, still naming them
        stage(outbox, ("participant-updated", participant(pid, revision=3)))
    relay.run_once()
    publisher.close()
    assert logged_subjects(outbox) == [("participant-registered", staying),
                                       *(("participant-withdrawn", pid) for pid in leaving)]
    markers = json.dumps(list(outbox.forgotten.find({}, {"at": 0})), default=str)
    assert all(erased_key(pid) in markers and pid not in markers for pid in leaving)  # digests, never ids


def test_a_person_forgotten_by_a_marker_of_the_earlier_layout_stays_forgotten(settings):
    """Before markers listed people, each was one document keyed by the person's digest."""
    outbox = Outbox(database(settings, "registry"), "registry")
    gone, staying = uuid.uuid4().hex, uuid.uuid4().hex
    outbox.forgotten.insert_one({"_id": erased_key(gone), "at": datetime.now(timezone.utc)})
    stage(outbox, ("participant-updated", participant(gone, revision=3)))  # late, naming them
    stage(outbox, ("participant-registered", participant(staying)))
    publisher = Publisher(settings, "relay")
    assert OutboxRelay(outbox, publisher).run_once() == 2
    publisher.close()
    assert logged_subjects(outbox) == [("participant-registered", staying)]


def test_a_consumer_erases_the_person_from_its_own_log_even_what_was_pending(settings):
    """The matcher-side worker handles participant-withdrawn; its own retained events naming the
    person go, and one still pending at that moment enters the log without them."""
    consumer_db = database(settings, "matcher")
    own = Outbox(consumer_db, "matcher")
    leaving, other = uuid.uuid4().hex, uuid.uuid4().hex
    stage(own, ("participant-updated", participant(leaving)))  # stands for any event naming the person
    stage(own, ("participant-updated", participant(other)))
    publisher = Publisher(settings, "matcher-relay")
    relay = OutboxRelay(own, publisher)
    relay.run_once()
    stage(own, ("participant-updated", participant(leaving, revision=3)))  # pending when the erasure comes

    registry = Outbox(database(settings, "registry"), "registry")
    stage(registry, ("participant-withdrawn", withdrawn(leaving)))
    applier = Applier(settings)
    consumer = Worker("matcher", settings, consumer_db, handlers={"participant-withdrawn": applier}, relay=False)
    with running(consumer, Worker("registry", settings, registry.db, handlers={})):
        eventually(lambda: applier.effects(leaving) == 1, message="withdrawal not applied")
        eventually(lambda: logged_subjects(own) == [("participant-updated", other)], message="person still retained")
    relay.run_once()
    publisher.close()
    assert logged_subjects(own) == [("participant-updated", other)]


def test_a_batch_consumer_erases_in_the_withdrawals_own_transaction_and_again_on_redelivery(settings):
    """A consumer made of writes (IdempotentHandler) erases the people of a poll's withdrawals from
    its retained log in the transaction that applies them; a withdrawal applied before (without
    the erasure, as a process that stopped in between once left it) erases them when redelivered."""
    consumer_db = database(settings, "matcher")
    own = Outbox(consumer_db, "matcher")
    first, second, other = (uuid.uuid4().hex for _ in range(3))
    for pid in (first, second, other):
        stage(own, ("participant-updated", participant(pid)))
    publisher = Publisher(settings, "matcher-relay")
    OutboxRelay(own, publisher).run_once()
    publisher.close()

    def effect(envelope):
        return [InsertOne({"participant": envelope["subject"], "event": envelope["id"]},
                          namespace=consumer_db.effects.full_name)]

    inbox = Inbox(consumer_db, "matcher")
    plain = IdempotentHandler(inbox, writes=effect)
    erasing_handler = erasing(plain, own)
    events = {pid: make_event("participant-withdrawn", pid, withdrawn(pid), "registry") for pid in (first, second)}
    apply_together([(plain, [events[second]])])  # applied once without erasing
    assert ("participant-updated", second) in logged_subjects(own)

    assert apply_together([(erasing_handler, [events[first]])]) == 1  # new: inbox row, effect, erasure at once
    assert ("participant-updated", first) not in logged_subjects(own)
    assert apply_together([(erasing_handler, [events[second]])]) == 0  # redelivered: only the erasure
    assert logged_subjects(own) == [("participant-updated", other)]
    assert consumer_db.effects.count_documents({"participant": {"$in": [first, second]}}) == 2  # each once


def test_rows_and_erasure_markers_older_than_the_retention_are_pruned(settings):
    outbox = Outbox(database(settings, "registry"), "registry")
    stage(outbox, ("participant-registered", participant(uuid.uuid4().hex)))
    stage(outbox, ("participant-withdrawn", withdrawn(uuid.uuid4().hex)))
    publisher = Publisher(settings, "relay")
    relay = OutboxRelay(outbox, publisher, retention_hours=1)
    relay.run_once()
    publisher.close()
    assert relay.prune() == 0 and outbox.retained() == 2 and outbox.forgotten.count_documents({}) == 1
    assert relay.prune(now=datetime.now(timezone.utc) + timedelta(hours=2)) == 2 and outbox.retained() == 0
    assert outbox.forgotten.count_documents({}) == 0


def test_a_lease_left_by_a_process_that_is_gone_is_taken_at_once(settings):
    outbox = Outbox(database(settings, "registry"), "registry")
    gone = subprocess.Popen(["true"])
    gone.wait()
    outbox.db["locks"].insert_one({"_id": "outbox-relay", "owner": f"{socket.gethostname()}:{gone.pid}:1",
                                   "expires": datetime.now(timezone.utc) + timedelta(minutes=5)})
    stage(outbox, ("participant-registered", participant(uuid.uuid4().hex)))
    publisher = Publisher(settings, "relay")
    assert OutboxRelay(outbox, publisher).run_once() == 1
    publisher.close()


class PrivateBroker:
    """A Tansu of this test's own, so it can be killed without touching the session's broker."""

    def __init__(self):
        self.port = free_port()
        self.process = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "PrivateBroker":
        self.process = subprocess.Popen(tansu_command("127.0.0.1", self.port), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for_port(self.port, 30, self.process, "Tansu")
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def broker():
    running_broker = PrivateBroker().start()
    yield running_broker
    if running_broker.process.poll() is None:
        running_broker.kill()


def test_a_broker_that_restarted_empty_gets_every_retained_event_again_and_consumers_apply_each_once(
        servers, broker):
    settings = namespaced_settings(servers).with_overrides(kafka_bootstrap=broker.bootstrap, broker_check_seconds=0.2)
    ensure_topics(settings)
    registry_db = database(settings, "registry")
    outbox = Outbox(registry_db, "registry")
    before = [uuid.uuid4().hex for _ in range(20)]
    for pid in before:
        stage(outbox, ("participant-registered", participant(pid)))
    applier = Applier(settings)
    with running(Worker("registry", settings, registry_db, handlers={}), applier.worker(settings)):
        eventually(lambda: all(applier.effects(pid) == 1 for pid in before), message="first delivery")

    broker.kill()
    during = [uuid.uuid4().hex for _ in range(5)]  # written while the broker is down: pending
    for pid in during:
        stage(outbox, ("participant-registered", participant(pid)))
    broker.start()  # empty, with a new cluster id

    # A worker process exits when its broker changed and starts again (shared.worker); here the
    # relay's worker is a new one and the consumer a new one, as after that restart.
    with running(Worker("registry", settings, registry_db, handlers={}), applier.worker(settings)):
        eventually(lambda: all(applier.effects(pid) == 1 for pid in before + during), timeout=40,
                   message="delivery after the broker came back empty")
        after = uuid.uuid4().hex
        stage(outbox, ("participant-registered", participant(after)))
        eventually(lambda: applier.effects(after) == 1, message="delivery of a new event after the replay")
    assert all(applier.effects(pid) == 1 for pid in before + during + [after])  # each applied once
    topic = read_topic(settings, settings.topic_name("participant-registered"), expected=26)
    assert {json.loads(record.value)["subject"] for record in topic} == set(before + during + [after])
    assert outbox.backlog() == 0 and outbox.retained() == 26


def test_a_worker_process_whose_broker_came_back_empty_exits_to_be_restarted(servers, broker, tmp_path):
    """Its consumers' positions mean nothing on the new broker (Tansu does not say a position is
    past a partition's end): the worker leaves, and its supervisor starts a fresh one."""
    settings = namespaced_settings(servers).with_overrides(kafka_bootstrap=broker.bootstrap)
    ensure_topics(settings)
    env = {**os.environ, "LC_KAFKA_BOOTSTRAP": broker.bootstrap, "LC_MONGO_URI": servers.mongo_uri,
           "LC_DB_PREFIX": settings.db_prefix, "LC_TOPIC_PREFIX": settings.topic_prefix,
           "LC_BROKER_CHECK_SECONDS": "0.5", "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "worker.log"
    with open(log, "wb") as output:
        worker = subprocess.Popen([sys.executable, "-m", "services.scheduler.worker"], env=env, stdout=output,
                                  stderr=subprocess.STDOUT)
    try:
        eventually(lambda: "worker running (broker cluster letsconnect-" in log.read_text(errors="replace"),
                   timeout=90, message="worker did not start against the broker")
        broker.kill()
        broker.start()
        assert worker.wait(90) == EXIT_BROKER_RESET
    finally:
        if worker.poll() is None:
            worker.kill()
    assert "the broker was reset" in log.read_text(errors="replace")
