"""The foundation's guarantees, against the real embedded broker and database."""
from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from pymongo import InsertOne
from pymongo.errors import DuplicateKeyError

from shared.bus import Publisher, read_topic
from shared.events import dlq_of, make_event
from shared.inbox import Inbox
from shared.mongo import database, in_transaction, write_atomically
from shared.outbox import Outbox, OutboxRelay
from shared.worker import Worker
from tests.support import eventually, running


def participant(pid: str, revision: int = 1) -> dict:
    return {
        "participant_id": pid, "revision": revision, "username": "Ahmed Example", "name": "أحمد",
        "email": "ahmed@example.org", "languages": ["ar", "en"], "timezone": "Africa/Cairo", "region": "mena",
        "group": {"name": "Wikimedia Egypt", "type": "user_group"}, "role": "board", "purpose": "organising",
        "activities": ["training"], "interests": [{"topic": "budget-development", "direction": "learn"}],
        "consent": {"public_profile": True, "share_contact": True, "recording": False},
        "registered_at": "2026-11-24T10:00:00Z",
    }


class Applier:
    """A consumer whose effect is one document per applied event, recorded through the inbox."""

    def __init__(self, settings, fail_subjects=()):
        self.db = database(settings, "matcher")
        self.inbox = Inbox(self.db, "matcher")
        self.fail_subjects = set(fail_subjects)

    def __call__(self, envelope):
        if envelope["subject"] in self.fail_subjects:
            raise RuntimeError("handler always fails for this participant")
        self.inbox.apply_once(envelope, lambda s: self.db.effects.insert_one(
            {"participant": envelope["subject"], "event": envelope["id"]}, session=s))

    def effects(self, pid):
        return self.db.effects.count_documents({"participant": pid})

    def worker(self, settings, events=("participant-registered",)):
        return Worker("matcher", settings, self.db, handlers={e: self for e in events}, relay=False)


def write_through_outbox(settings, pid):
    db = database(settings, "registry")
    outbox = Outbox(db, "registry")

    def work(session):
        db.participants.insert_one({"_id": pid}, session=session)
        outbox.add(session, "participant-registered", participant(pid))

    in_transaction(db, work)
    return db, outbox


def test_event_written_through_outbox_reaches_another_services_consumer(settings):
    pid = uuid.uuid4().hex
    applier = Applier(settings)
    registry_worker = Worker("registry", settings, database(settings, "registry"), handlers={})
    with running(applier.worker(settings), registry_worker):
        write_through_outbox(settings, pid)
        eventually(lambda: applier.effects(pid) == 1, message="event did not reach the matcher")
    assert Outbox(database(settings, "registry"), "registry").backlog() == 0


def test_aborted_transaction_writes_neither_state_nor_event(settings):
    db = database(settings, "registry")
    outbox = Outbox(db, "registry")

    def work(session):
        db.participants.insert_one({"_id": "p-abort"}, session=session)
        outbox.add(session, "participant-registered", participant("p-abort"))
        raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        in_transaction(db, work)
    assert db.participants.count_documents({}) == 0
    assert outbox.backlog() == 0


def test_one_round_trip_write_stores_state_and_its_events_together_or_neither(settings):
    db = database(settings, "registry")
    outbox = Outbox(db, "registry")
    pid = uuid.uuid4().hex

    def register(check=None):
        staged = outbox.insert_operation([("participant-updated", participant(pid, revision)) for revision in (1, 2, 3)])
        return write_atomically(db, [InsertOne({"_id": pid}, namespace=db.participants.full_name), staged], check=check)

    def refuse(result):
        raise RuntimeError("the caller saw something it did not like")

    with pytest.raises(RuntimeError):
        register(check=refuse)
    assert db.participants.count_documents({}) == 0 and outbox.backlog() == 0
    register()
    with pytest.raises(DuplicateKeyError):
        register()
    assert db.participants.count_documents({}) == 1 and outbox.backlog() == 1

    publisher = Publisher(settings, "relay")
    assert OutboxRelay(outbox, publisher).run_once() == 1
    publisher.close()
    records = read_topic(settings, settings.topic_name("participant-updated"), expected=3)
    assert [json.loads(record.value)["data"]["revision"] for record in records] == [1, 2, 3]


def test_relay_killed_between_write_and_publish_delivers_once_after_restart(settings):
    pid = uuid.uuid4().hex
    db, outbox = write_through_outbox(settings, pid)  # written, relay not running: "killed" before publish
    assert outbox.backlog() == 1

    class Killed(Exception):
        pass

    def die(rows):
        raise Killed()

    publisher = Publisher(settings, "crashing-relay")
    crashing = OutboxRelay(outbox, publisher, after_publish=die)  # publishes, dies before deleting the row
    with pytest.raises(Killed):
        crashing.run_once()
    crashing.release()
    assert outbox.backlog() == 1
    restarted = OutboxRelay(outbox, publisher)
    assert restarted.run_once() == 1
    assert outbox.backlog() == 0
    publisher.close()

    copies = read_topic(settings, settings.topic_name("participant-registered"), expected=2)
    assert len(copies) == 2  # published twice ...
    applier = Applier(settings)
    with running(applier.worker(settings)):
        eventually(lambda: applier.effects(pid) == 1)
        registered = database(settings, "matcher").inbox.count_documents({})
    assert applier.effects(pid) == 1 and registered == 1  # ... applied once


def test_same_event_delivered_twice_has_one_effect(settings):
    pid = uuid.uuid4().hex
    envelope = make_event("participant-registered", pid, participant(pid), source="registry")
    publisher = Publisher(settings, "test")
    publisher.publish(envelope)
    publisher.publish(envelope)
    marker = make_event("participant-registered", pid + "-marker", participant(pid + "-marker"), "registry")
    publisher.publish(marker)
    applier = Applier(settings)
    with running(applier.worker(settings)):
        eventually(lambda: applier.effects(pid + "-marker") == 1)
        eventually(lambda: applier.effects(pid) >= 1)
    assert applier.effects(pid) == 1


def test_poison_events_are_parked_on_dlq_with_reason_and_later_events_flow(settings):
    topic = settings.topic_name("participant-registered")
    publisher = Publisher(settings, "test")
    publisher.send_raw(topic, b"broken", b"{not json").get(10)
    bad_schema = make_event("participant-registered", "x", participant("x"), "registry")
    bad_schema["data"]["email"] = "not-an-email"
    publisher.send_raw(topic, b"x", json.dumps(bad_schema).encode()).get(10)
    failing = make_event("participant-registered", "always-fails", participant("always-fails"), "registry")
    publisher.publish(failing)
    good = make_event("participant-registered", "good", participant("good"), "registry")
    publisher.publish(good)
    publisher.close()

    applier = Applier(settings, fail_subjects={"always-fails"})
    with running(applier.worker(settings)):
        eventually(lambda: applier.effects("good") == 1, message="good event was not processed")
        parked = read_topic(settings, dlq_of(topic), expected=3)
    reasons = {record.key: json.loads(record.value) for record in parked}
    assert set(reasons) == {b"broken", b"x", b"always-fails"}
    assert "not JSON" in reasons[b"broken"]["error"]
    assert "email" in reasons[b"x"]["error"]
    assert "handler always fails" in reasons[b"always-fails"]["error"]
    assert reasons[b"always-fails"]["attempts"] == settings.retry_attempts
    assert json.loads(reasons[b"always-fails"]["event"])["id"] == failing["id"]


def test_offsets_are_committed_only_after_effects(settings):
    """A worker that stops and a new one that starts in the same group neither skips nor repeats."""
    publisher = Publisher(settings, "test")
    applier = Applier(settings)
    with running(applier.worker(settings)):
        publisher.publish(make_event("participant-registered", "first", participant("first"), "registry"))
        eventually(lambda: applier.effects("first") == 1)
    publisher.publish(make_event("participant-registered", "second", participant("second"), "registry"))
    with running(applier.worker(settings)):
        eventually(lambda: applier.effects("second") == 1)
    publisher.close()
    assert applier.effects("first") == 1


def test_batched_handler_applies_each_event_once_and_isolates_a_failing_one(settings):
    from pymongo import UpdateOne

    from shared.inbox import IdempotentHandler

    db = database(settings, "matcher")

    def writes(envelope):
        if envelope["subject"] == "poison":
            raise ValueError("cannot apply this one")
        return [UpdateOne({"_id": envelope["subject"]}, {"$inc": {"applied": 1}}, upsert=True,
                          namespace=db.effects.full_name)]

    handler = IdempotentHandler(Inbox(db, "matcher"), writes=writes)
    publisher = Publisher(settings, "test")
    events = [make_event("participant-registered", f"p{i}", participant(f"p{i}"), "registry") for i in range(30)]
    poison = make_event("participant-registered", "poison", participant("poison"), "registry")
    for envelope in events[:15] + [poison] + events[15:] + events[:5]:  # five redeliveries at the end
        publisher.send(envelope)
    publisher.flush()
    publisher.close()
    worker = Worker("matcher", settings, db, handlers={"participant-registered": handler}, relay=False)
    with running(worker):
        eventually(lambda: db.effects.count_documents({}) == 30)
        parked = read_topic(settings, dlq_of(settings.topic_name("participant-registered")), expected=1)
    assert {doc["applied"] for doc in db.effects.find()} == {1}
    assert [record.key for record in parked] == [b"poison"]
    assert "cannot apply this one" in json.loads(parked[0].value)["error"]


def test_a_database_outage_parks_nothing_and_the_event_is_applied_after_recovery(settings, tmp_path):
    """Events wait out an unreachable database instead of filling the .dlq."""
    import subprocess
    import sys
    from pathlib import Path

    from letsconnect.servers import free_port, wait_for_port

    port = free_port()
    command = [str(Path(sys.executable).parent / "secantusd-py"), "--host", "127.0.0.1", "--port", str(port),
               "--storage-path", str(tmp_path / "db"), "--log-level", "ERROR"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, 60, server, "SecantusDB")
    private = settings.with_overrides(mongo_uri=f"mongodb://127.0.0.1:{port}/?directConnection=true&"
                                                "serverSelectionTimeoutMS=1000")
    applier = Applier(private)
    try:
        with running(applier.worker(private)):
            publisher = Publisher(settings, "test")
            publisher.publish(make_event("participant-registered", "before", participant("before"), "registry"))
            eventually(lambda: applier.effects("before") == 1)
            server.terminate()
            server.wait(20)
            publisher.publish(make_event("participant-registered", "during", participant("during"), "registry"))
            import time

            time.sleep(4)  # longer than all retries with backoff would take
            server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for_port(port, 60, server, "SecantusDB")
            eventually(lambda: applier.effects("during") == 1, timeout=30)
            publisher.close()
        parked = read_topic(settings, dlq_of(settings.topic_name("participant-registered")), timeout=2)
        assert parked == []
    finally:
        server.terminate()
        server.wait(20)


def test_the_consumer_lag_metric_counts_what_is_waiting_and_falls_to_zero_once_applied(settings):
    from prometheus_client import REGISTRY

    from shared.bus import ConsumerRunner

    service = f"lag-probe-{uuid.uuid4().hex[:6]}"

    def lag() -> float:
        return sum(sample.value for metric in REGISTRY.collect() if metric.name == "lc_consumer_lag"
                   for sample in metric.samples if sample.labels.get("service") == service)

    applied = []

    def slow(envelope):  # one event a poll, half a second each: the rest waits
        time.sleep(0.5)
        applied.append(envelope["id"])

    publisher = Publisher(settings, "test")
    runner = ConsumerRunner(settings, service, {"participant-registered": slow}, publisher, max_poll_records=1)
    stop = threading.Event()
    consuming = threading.Thread(target=runner.run, args=(stop,), daemon=True)
    consuming.start()
    try:
        assert runner.assigned.wait(30)
        for _ in range(8):  # one subject: one partition, in order; sent together, so they wait together
            publisher.send(make_event("participant-registered", "lagging", participant("lagging"), "registry"))
        publisher.flush()
        seen = eventually(lambda: lag() >= 3 and lag(), timeout=20, message="the waiting events show as lag")
        eventually(lambda: len(applied) == 8 and lag() == 0, timeout=30, message="no lag once all are applied")
        assert seen <= 8
    finally:
        stop.set()
        consuming.join(10)
        publisher.close()


def test_two_event_types_of_one_poll_apply_in_one_transaction_once_each(settings):
    from shared.inbox import IdempotentHandler, apply_together

    db = database(settings, "matcher")
    inbox = Inbox(db, "matcher")
    followed = []
    registered = IdempotentHandler(inbox, writes=lambda e: [InsertOne({"_id": e["subject"]},
                                                                      namespace=db.people.full_name)])
    skill = IdempotentHandler(inbox, writes=lambda e: [InsertOne({"_id": e["id"], "who": e["subject"]},
                                                                 namespace=db.skills.full_name)],
                              follow_up=lambda es: followed.append([e["id"] for e in es]))
    pid = uuid.uuid4().hex
    person = make_event("participant-registered", pid, participant(pid), "registry")
    interest = make_event("skill-registered", pid, {
        "participant_id": pid, "revision": 1, "topic": "budget-development", "direction": "learn",
        "languages": ["ar"], "timezone": "Africa/Cairo", "region": "mena",
        "group": {"name": "Wikimedia Egypt", "type": "user_group"}, "share_contact": True,
        "registered_at": "2026-11-24T10:00:00Z"}, "registry")

    assert apply_together([(registered, [person]), (skill, [interest, interest])]) == 2
    stamps = {doc["_id"].split(":", 1)[1]: doc["applied_at"] for doc in db.inbox.find({"type": {"$exists": True}})
              if doc["_id"].split(":", 1)[1] in (person["id"], interest["id"])}
    assert len(stamps) == 2 and len(set(stamps.values())) == 1  # recorded by one and the same transaction
    assert db.people.count_documents({"_id": pid}) == 1 and db.skills.count_documents({"who": pid}) == 1
    # redelivered together: nothing applied again, the follow-up runs again (idempotent by contract),
    # each time once with all of the poll's events of its type
    assert apply_together([(registered, [person]), (skill, [interest])]) == 0
    assert db.skills.count_documents({"who": pid}) == 1
    assert followed == [[interest["id"], interest["id"]], [interest["id"]]]


def test_a_poll_that_mixes_a_redelivered_event_with_new_ones_applies_only_the_new_ones(settings):
    db = database(settings, "matcher")
    inbox = Inbox(db, "matcher")
    effects = []

    def effect(session, envelope):
        effects.append(envelope["id"])
        db.people.update_one({"_id": envelope["subject"]}, {"$inc": {"applied": 1}}, upsert=True, session=session)

    pids = [uuid.uuid4().hex for _ in range(3)]
    first, *later = [make_event("participant-registered", pid, participant(pid), "registry") for pid in pids]
    assert inbox.apply_batch([first], effect) == 1
    assert inbox.apply_batch([*later, first], effect) == 2  # the first was applied before: skipped
    assert inbox.apply_batch([first, *later], effect) == 0
    assert [doc["applied"] for doc in db.people.find({"_id": {"$in": pids}})] == [1, 1, 1]
    assert sorted(effects) == sorted(envelope["id"] for envelope in [first, *later])  # no attempt ran twice


def test_a_handler_that_reads_then_gives_its_writes_applies_each_event_of_a_poll_once(settings):
    """batch_writes: its reads made in the poll's transaction, its writes sent with the inbox rows;
    a poll holding a redelivered event is applied again skipping it, with nothing written twice."""
    from pymongo import UpdateOne

    from shared.inbox import IdempotentHandler

    db = database(settings, "matcher")
    handed = []

    def read_then_write(session, envelopes):
        handed.append(len(envelopes))
        known = {doc["_id"] for doc in db.people.find({"_id": {"$in": [e["subject"] for e in envelopes]}},
                                                      session=session)}
        return [UpdateOne({"_id": e["subject"]}, {"$inc": {"applied": 1}, "$set": {"known_before": e["subject"] in known}},
                          upsert=True, namespace=db.people.full_name) for e in envelopes]

    handler = IdempotentHandler(Inbox(db, "matcher"), batch_writes=read_then_write)
    pids = [uuid.uuid4().hex for _ in range(3)]
    first, *later = [make_event("participant-registered", pid, participant(pid), "registry") for pid in pids]
    assert handler.apply_batch([first]) == 1
    assert handler.apply_batch([*later, first]) == 2  # the first was applied before: skipped
    assert handler.apply_batch([first, *later]) == 0
    people = {doc["_id"]: doc for doc in db.people.find({"_id": {"$in": pids}})}
    assert [people[pid]["applied"] for pid in pids] == [1, 1, 1]
    assert not any(doc["known_before"] for doc in people.values())
    # each lost bet handed over the whole poll; the retry after it, only what was new (none the last time)
    assert handed == [1, 3, 2, 3]


def test_a_failing_type_in_a_poll_of_two_parks_only_its_event(settings):
    from shared.inbox import IdempotentHandler

    db = database(settings, "matcher")
    inbox = Inbox(db, "matcher")

    def refuse(session, envelope):
        raise RuntimeError("this type always fails")

    handlers = {"participant-registered": IdempotentHandler(inbox, writes=lambda e: [
                    InsertOne({"_id": e["subject"]}, namespace=db.people.full_name)]),
                "participant-updated": IdempotentHandler(inbox, refuse)}
    pid = uuid.uuid4().hex
    publisher = Publisher(settings, "test")
    publisher.publish(make_event("participant-registered", pid, participant(pid), "registry"))
    publisher.publish(make_event("participant-updated", pid, participant(pid, revision=2), "registry"))
    publisher.close()
    with running(Worker("matcher", settings, db, handlers=handlers, relay=False)):
        eventually(lambda: db.people.count_documents({"_id": pid}) == 1, message="the good type is applied")
        parked = read_topic(settings, dlq_of(settings.topic_name("participant-updated")), expected=1)
    assert "this type always fails" in json.loads(parked[0].value)["error"]


def test_handlers_applied_together_that_share_hooks_hand_over_everything_they_staged(settings):
    """As the notifier's: begin() clears what a transaction staged, committed() hands it over."""
    from shared.inbox import IdempotentHandler, apply_together

    class Handoff:
        def __init__(self):
            self.staged, self.handed = [], []

        def begin(self):
            self.staged.clear()

        def committed(self):
            self.handed += self.staged

    handoff = Handoff()
    inbox = Inbox(database(settings, "notifier"), "notifier")

    def stage(session, envelopes):
        handoff.staged.extend(envelope["id"] for envelope in envelopes)

    first, second = (IdempotentHandler(inbox, batch=stage, begin=handoff.begin, committed=handoff.committed)
                     for _ in range(2))
    pid = uuid.uuid4().hex
    registered = make_event("participant-registered", pid, participant(pid), "registry")
    updated = make_event("participant-updated", pid, participant(pid, revision=2), "registry")
    apply_together([(first, [registered]), (second, [updated])])
    assert handoff.handed == [registered["id"], updated["id"]]
