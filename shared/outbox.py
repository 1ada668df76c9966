"""Transactional outbox: events are stored with the state change, relayed to Kafka, then kept.

Write path (unchanged by retention): a change and its one outbox row in one transaction
(`shared.mongo.write_atomically`: one round trip for the writes plus the commit).

Relay: publishes pending rows (`outbox`) in `_id` order with acks=all, then moves them, in one
transaction, to the service's retained log (`outbox_log`), kept as long as the topics keep events
(LC_TOPIC_RETENTION_HOURS). A relayed batch enters the log as one document (or a few, each under
LOG_ENTRY_BYTES), keyed by its first row's `_id`: one insert per batch rather than per row. A crash
between the publish and the move re-publishes the same envelope ids, which consumers' inboxes drop.
One relay per service database holds a lease, so order is kept across copies.

The retained log is the service's durable record of what it published. When the relay sees that
the broker no longer holds it (a new cluster id, or a partition ending below an offset the broker
acknowledged: the embedded broker keeps topics in memory and comes back empty), it re-creates the
topics and publishes the retained log again, oldest first, then carries on with pending rows.
Consumer groups then start from the earliest offset of the new topics; their inboxes drop what
they had already applied.

Erasure: `Outbox.forget(person)` removes from the retained log every event that names the person
(except the erasure event itself) and leaves a marker, so events still pending enter the log
without them. The relay does it for the erasure events it relays (the registry's own log); every
worker that consumes participant-withdrawn does it for its service (shared.worker).
"""
from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

import bson
from bson import ObjectId
from pymongo import ASCENDING, DeleteMany, DeleteOne, InsertOne, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared import metrics
from shared.broker_reset import BrokerProbe, lost_records, parse_partition_key, partition_key
from shared.config import OUTBOX_CHANGE_STREAM
from shared.events import EVENT_TYPES, make_event
from shared.mongo import after_commit, in_transaction
from shared.outbox_wake import OutboxWakeup, ring
from shared.pseudonyms import erased_key

log = logging.getLogger(__name__)
COLLECTION = "outbox"  # pending rows: written with the change, not yet published
LOG = "outbox_log"  # published batches, kept for the topics' retention (what a replay publishes again)
FORGOTTEN = "outbox_forgotten"  # per erasure, the erased_key of its people: their pending events never enter the log
STATE = "outbox_state"  # the relay's view of the broker: cluster id, acknowledged offsets, replay
RELAY_STATE = "relay"
ERASURE_EVENTS = frozenset({"participant-withdrawn"})
_LONGEST_ID = 64
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")  # the envelopes' and schemas' date-time format
LOG_ENTRY_BYTES = 1 << 20  # a log document's events: far below MongoDB's 16 MB document limit
REPLAY_ENTRIES = 16  # log documents published per step of a replay (at most 16 MB in memory)


def mentions(envelope: dict) -> set[str]:
    """The identifiers an event names: its subject and every short string without spaces in its
    data (wherever a schema puts participant ids: participant_id, participants[].id, attendees...)
    but timestamps, which no id is. Only used to find what to erase, so over-inclusion costs index
    entries and marker lookups, never data."""
    found = {envelope["subject"]}
    pending = [envelope.get("data")]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if (len(value) <= _LONGEST_ID and value and not any(c.isspace() for c in value)
                    and not _TIMESTAMP.match(value)):
                found.add(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return found


def without_people(events: Iterable[dict], people: set[str]) -> list[dict]:
    """`events` minus those naming one of `people`. An erasure event stays: replayed, it tells a
    consumer that never saw the person to hold nothing of them."""
    return [e for e in events if e["type"] in ERASURE_EVENTS or not (mentions(e) & people)]


def log_entries(rows: list[dict], forgotten: set[str], published_at: datetime,
                budget: int = LOG_ENTRY_BYTES) -> list[dict]:
    """The retained-log documents of a relayed batch: its rows' events in order, without those
    naming a `forgotten` person, in as few documents as `budget` (BSON bytes of events) allows.
    Each is keyed by its first row's `_id`, so the log reads in the order the rows were relayed."""
    entries: list[dict] = []
    first, events, size = None, [], 0
    for row in rows:
        kept = without_people(row["events"], forgotten) if forgotten else row["events"]
        if not kept:
            continue
        row_size = len(bson.encode({"events": kept}))
        if events and size + row_size > budget:
            entries.append(_log_entry(first, events, published_at))
            events, size = [], 0
        if not events:
            first = row
        events.extend(kept)
        size += row_size
    if events:
        entries.append(_log_entry(first, events, published_at))
    return entries


def _log_entry(first_row: dict, events: list[dict], published_at: datetime) -> dict:
    return {"_id": first_row["_id"], "events": events, "mentions": sorted(set().union(*map(mentions, events))),
            "created_at": first_row.get("created_at"), "published_at": published_at}


def _count_events(log: Collection, query: dict) -> int:
    totals = list(log.aggregate([{"$match": query},
                                 {"$group": {"_id": None, "events": {"$sum": {"$size": "$events"}}}}]))
    return totals[0]["events"] if totals else 0


class Outbox:
    def __init__(self, db: Database, source: str):
        self.db = db
        self.source = source
        self.collection = db[COLLECTION]
        self.log = db[LOG]
        self.forgotten = db[FORGOTTEN]
        self.state = db[STATE]

    def _row(self, events: list[tuple[str, dict]]) -> dict:
        """One row per write, holding its events in order: one insert and one index entry however
        many events a change emits. Rows are read in `_id` order (increasing ObjectIds), so the
        outbox needs no index of its own."""
        envelopes = [make_event(event_type, subject=data[EVENT_TYPES[event_type].key_field], data=data,
                                source=self.source) for event_type, data in events]
        return {"_id": ObjectId(), "events": envelopes, "created_at": datetime.now(timezone.utc)}

    def add(self, session: ClientSession | None, event_type: str, data: dict) -> dict:
        """Validate and stage one event inside the caller's transaction; returns the envelope."""
        return self.add_many(session, [(event_type, data)])[0]

    def add_many(self, session: ClientSession | None, events: list[tuple[str, dict]]) -> list[dict]:
        """Stage several events (published in this order) inside the caller's transaction."""
        if not events:
            return []
        row = self._row(events)
        self.collection.insert_one(row, session=session)
        after_commit(self.written)
        return row["events"]

    def written(self) -> None:
        """A row was committed (add_many tells this itself; after write_atomically, call it): wake
        this process's relay."""
        ring(self.collection.full_name)

    def insert_operation(self, events: list[tuple[str, dict]]) -> InsertOne:
        """The same staging as one operation of a client-level bulk write (see mongo.write_atomically)."""
        return InsertOne(self._row(events), namespace=self.collection.full_name)

    def backlog(self) -> int:
        """Writes whose events are not yet published."""
        return self.collection.count_documents({})

    def oldest_pending(self) -> datetime | None:
        """When the oldest write whose events are not yet published was made (None: nothing pending)."""
        row = self.collection.find_one({}, {"created_at": 1}, sort=[("_id", ASCENDING)])
        return row["created_at"] if row else None

    def retained(self) -> int:
        """Published events kept for a replay."""
        return _count_events(self.log, {})

    def forget(self, *people: str) -> int:
        """Erase these people from the retained log (in one transaction of its own); returns the
        number of events removed. Idempotent."""
        return in_transaction(self.db, lambda session: self.forget_in(session, set(people)))

    def forget_in(self, session: ClientSession, people: set[str]) -> int:
        """`forget` inside the caller's transaction, for several people at once."""
        operations, removed = self.forget_operations(session, people)
        self.db.client.bulk_write(operations, ordered=True, session=session)
        return removed

    def forget_operations(self, session: ClientSession, people: set[str]) -> tuple[list, int]:
        """The writes that erase `people` from the retained log as it reads in `session` (one
        client-level bulk write, whatever the number of people and rows), and how many events they
        remove."""
        now = datetime.now(timezone.utc)
        # One marker for the people erased together (a relay's batch, a consumer's poll), found by
        # its multikey index: one insert, where an upsert per person cost SecantusDB seven times
        # as much for a batch of 21.
        operations: list = [InsertOne({"_id": ObjectId(), "people": sorted(map(erased_key, people)), "at": now},
                                      namespace=self.forgotten.full_name)] if people else []
        # The relay's archiving writes this document too: the two transactions conflict instead of
        # each committing on a view without the other (a row entering the log unerased).
        operations.append(UpdateOne({"_id": RELAY_STATE}, {"$inc": {"erasures": 1}}, upsert=True,
                                    namespace=self.state.full_name))
        removed = 0
        for row in self.log.find({"mentions": {"$in": sorted(people)}}, session=session):
            kept = without_people(row["events"], people)
            removed += len(row["events"]) - len(kept)
            if not kept:
                operations.append(DeleteOne({"_id": row["_id"]}, namespace=self.log.full_name))
            elif len(kept) < len(row["events"]):
                operations.append(UpdateOne({"_id": row["_id"]}, {"$set": {
                    "events": kept, "mentions": sorted(set().union(*map(mentions, kept)))}},
                    namespace=self.log.full_name))
        return operations, removed


class OutboxRelay:
    """Publishes pending outbox rows in `_id` order (each row's events in order), moves them to the
    retained log, and publishes the log again when the broker lost it."""

    LEASE_SECONDS = 10
    PRUNE_EVERY_SECONDS = 60.0

    def __init__(self, outbox: Outbox, publisher, poll_ms: int = 20, batch: int = 500,
                 after_publish: Callable[[list[dict]], None] | None = None,
                 retention_hours: float | None = None, broker_check_seconds: float | None = None,
                 probe: BrokerProbe | None = None):
        self.outbox = outbox
        self.publisher = publisher
        self.settings = publisher.settings
        self.poll = poll_ms / 1000
        self.batch = batch
        self.after_publish = after_publish  # fault-injection point for the crash tests
        hours = self.settings.topic_retention_hours if retention_hours is None else retention_hours
        self.retention = timedelta(hours=hours)
        self.check_every = (self.settings.broker_check_seconds if broker_check_seconds is None
                            else broker_check_seconds)
        self.probe = probe or BrokerProbe(self.settings, f"{outbox.source}-relay-probe")
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._lease_until = 0.0
        self.wakeup = OutboxWakeup(outbox.collection, poll_seconds=self.poll,
                                   idle_poll_seconds=self.settings.outbox_idle_poll_ms / 1000,
                                   change_stream=self.settings.outbox_wake == OUTBOX_CHANGE_STREAM)
        self._next_check = 0.0
        self._next_prune = 0.0
        self._indexed = False
        self._stop = threading.Event()

    # -- the lease: one relay per service database at a time ---------------------------------

    def _hold_lease(self) -> bool:
        now = time.time()
        if now < self._lease_until - self.LEASE_SECONDS / 2:
            return True
        locks = self.outbox.db["locks"]
        expires = datetime.now(timezone.utc) + timedelta(seconds=self.LEASE_SECONDS)
        try:
            locks.find_one_and_update(
                {"_id": "outbox-relay", "$or": [{"owner": self.owner},
                                                 {"expires": {"$lt": datetime.now(timezone.utc)}}]},
                {"$set": {"owner": self.owner, "expires": expires}}, upsert=True)
        except DuplicateKeyError:
            if not self._take_over_from_dead_owner(expires):
                return False
        self._lease_until = now + self.LEASE_SECONDS
        return True

    def _take_over_from_dead_owner(self, expires: datetime) -> bool:
        """A lease left by a process of this host that no longer exists (a relay killed with its
        worker) is taken at once rather than after it expires."""
        locks = self.outbox.db["locks"]
        lease = locks.find_one({"_id": "outbox-relay"}) or {}
        host, _, rest = str(lease.get("owner", "")).partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid() or _pid_alive(int(pid)):
            return False
        taken = locks.update_one({"_id": "outbox-relay", "owner": lease["owner"]},
                                 {"$set": {"owner": self.owner, "expires": expires}})
        if taken.modified_count:
            log.info("%s relay: took over the lease of %s (process gone)", self.outbox.source, lease["owner"])
        return taken.modified_count == 1

    def release(self) -> None:
        self.outbox.db["locks"].delete_one({"_id": "outbox-relay", "owner": self.owner})
        self._lease_until = 0.0

    # -- relaying --------------------------------------------------------------------------

    def _prepare(self) -> None:
        if not self._indexed:
            self.outbox.log.create_index("mentions")  # erasure finds a person's rows by it
            self.outbox.forgotten.create_index("people")  # and archiving the markers naming a batch's people
            self._list_people_in_older_markers()
            self._indexed = True

    def _list_people_in_older_markers(self) -> None:
        """Markers written before they listed people (one per person, the digest as `_id`) are
        given the list, so the people they name stay forgotten after an upgrade."""
        older = [marker["_id"] for marker in self.outbox.forgotten.find({"people": {"$exists": False}}, {"_id": 1})]
        if older:
            self.outbox.forgotten.bulk_write([UpdateOne({"_id": key}, {"$set": {"people": [key]}}) for key in older])

    def run_once(self) -> int:
        if not self._hold_lease():
            return 0
        self._prepare()
        if time.monotonic() >= self._next_check:
            self.check_broker()
            self._next_check = time.monotonic() + self.check_every
        rows = list(self.outbox.collection.find({}).sort("_id", ASCENDING).limit(self.batch))
        if not rows:
            self._prune_when_due()
            return 0
        acked = self._publish(rows)
        acked_at = datetime.now(timezone.utc)
        if self.after_publish:
            self.after_publish(rows)
        self._archive(rows, acked)
        self.wakeup.published(row["_id"] for row in rows)
        self._observe(rows, acked_at)
        return len(rows)

    def _observe(self, rows: list[dict], acked_at: datetime) -> None:
        """Metrics of a published batch: events per type, and each event's age at the broker's ack."""
        for envelope in (envelope for row in rows for envelope in row["events"]):
            metrics.EVENTS_PUBLISHED.labels(self.outbox.source, envelope["type"]).inc()
            metrics.OUTBOX_AGE.labels(self.outbox.source).observe(metrics.age_seconds(envelope["time"], acked_at))

    def _publish(self, rows: list[dict]) -> dict[str, int]:
        """Publish every event of `rows` in order and wait for the broker's acknowledgements.
        Returns, per partition, the lowest offset acknowledged this time: a broker that still holds
        it ends past it. (Not the highest: Tansu reports a partition's end as the first offset of
        its last batch plus one.) Raises if the broker refused."""
        futures = [self.publisher.send(envelope) for row in rows for envelope in row["events"]]
        self.publisher.flush()
        acked: dict[str, int] = {}
        for future in futures:
            record = future.get(timeout=30)  # raises if the broker did not take it: rows stay pending
            key = partition_key(record.topic, record.partition)
            acked[key] = min(acked.get(key, record.offset), record.offset)
        return acked

    def _archive(self, rows: list[dict], acked: dict[str, int]) -> None:
        """Move published rows to the retained log (without events naming an erased person) and
        record the acknowledged offsets, in one transaction."""
        outbox = self.outbox
        erased_now = {e["subject"] for row in rows for e in row["events"] if e["type"] in ERASURE_EVENTS}
        mentioned = set().union(*(mentions(e) for row in rows for e in row["events"])) - erased_now

        def work(session: ClientSession) -> None:
            named = {erased_key(name): name for name in mentioned}  # whom an earlier erasure may have forgotten
            markers = outbox.forgotten.find({"people": {"$in": sorted(named)}}, {"people": 1},
                                            session=session) if named else []
            forgotten = {named[key] for marker in markers for key in marker["people"] if key in named} | erased_now
            # This batch's own rows leave out the people it erases, and their earlier rows are read
            # before these enter the log: the whole move is one bulk write.
            operations, _ = outbox.forget_operations(session, erased_now) if erased_now else ([], 0)
            operations.extend(InsertOne(entry, namespace=outbox.log.full_name)
                              for entry in log_entries(rows, forgotten, datetime.now(timezone.utc)))
            operations.append(DeleteMany({"_id": {"$in": [row["_id"] for row in rows]}},
                                         namespace=outbox.collection.full_name))
            operations.append(UpdateOne({"_id": RELAY_STATE}, {"$max": {f"acked.{k}": v for k, v in acked.items()}},
                                        upsert=True, namespace=outbox.state.full_name))
            outbox.db.client.bulk_write(operations, ordered=True, session=session)

        in_transaction(outbox.db, work)

    # -- a broker that lost what was published ---------------------------------------------

    def check_broker(self) -> bool:
        """Publish the retained log again when the broker lost it; True when it did. A broker that
        does not answer is left to the next check (publishing fails meanwhile)."""
        observed = self.probe.cluster_id()
        if observed is None:
            return False
        state = self.outbox.state.find_one({"_id": RELAY_STATE}) or {}
        replay = state.get("replay") or {}
        if replay.get("cluster_id") == observed:
            reason = "an interrupted replay"
        elif state.get("cluster_id") is None:
            self.outbox.state.update_one({"_id": RELAY_STATE}, {"$set": {"cluster_id": observed}}, upsert=True)
            return False
        else:
            acked = {parse_partition_key(k): v for k, v in (state.get("acked") or {}).items()}
            ends = None if observed != state["cluster_id"] else self.probe.end_offsets(acked)
            reason = lost_records(state["cluster_id"], observed, acked, ends)
        if reason is None:
            return False
        self.replay(observed, reason, resume_after=replay.get("after") if replay.get("cluster_id") == observed
                    else None)
        return True

    def replay(self, cluster_id: str, reason: str, resume_after: ObjectId | None = None) -> int:
        """Re-create the topics and publish the retained log again, oldest first; progress is
        recorded, so a relay that stops half-way is resumed by the next one. Returns events published."""
        from shared.bus import ensure_topics  # bus imports nothing of the outbox; imported late for clarity

        outbox = self.outbox
        log.warning("%s relay: the broker lost published events (%s); publishing the retained log again",
                    outbox.source, reason)
        ensure_topics(self.settings)
        self.publisher.renew()  # an idempotent producer's id means nothing to a new broker
        if resume_after is None:
            outbox.state.update_one({"_id": RELAY_STATE}, {"$set": {
                "replay": {"cluster_id": cluster_id, "after": None}, "acked": {}}}, upsert=True)
        after, published, started = resume_after, 0, time.monotonic()
        while True:
            if self._stop.is_set():
                return published  # the next relay resumes after `after`
            if not self._hold_lease():
                log.warning("%s relay: lost the lease during the replay; the holder resumes it", outbox.source)
                return published
            query = {"_id": {"$gt": after}} if after is not None else {}
            entries = list(outbox.log.find(query).sort("_id", ASCENDING).limit(REPLAY_ENTRIES))
            if not entries:
                break
            acked = self._publish(entries)
            after = entries[-1]["_id"]
            published += sum(len(entry["events"]) for entry in entries)
            outbox.state.update_one({"_id": RELAY_STATE}, {
                "$set": {"replay.after": after}, "$max": {f"acked.{k}": v for k, v in acked.items()}})
        outbox.state.update_one({"_id": RELAY_STATE}, {"$set": {"cluster_id": cluster_id}, "$unset": {"replay": ""}})
        log.warning("%s relay: replayed %d retained events in %.1f s", outbox.source, published,
                    time.monotonic() - started)
        return published

    # -- retention -------------------------------------------------------------------------

    def _prune_when_due(self) -> None:
        if time.monotonic() >= self._next_prune:
            self.prune()
            self._next_prune = time.monotonic() + self.PRUNE_EVERY_SECONDS

    def prune(self, now: datetime | None = None) -> int:
        """Drop retained events (and erasure markers) older than the retention; returns how many
        events."""
        cutoff = (now or datetime.now(timezone.utc)) - self.retention
        expired = {"_id": {"$lt": ObjectId.from_datetime(cutoff)}, "published_at": {"$lt": cutoff}}
        dropped = _count_events(self.outbox.log, expired)
        self.outbox.log.delete_many(expired)
        self.outbox.forgotten.delete_many({"at": {"$lt": cutoff}})
        return dropped

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        self.wakeup.start()
        while not stop.is_set():
            try:
                published = self.run_once()
            except (PyMongoError, Exception) as exc:  # keep relaying after broker or database hiccups
                log.warning("outbox relay: %s; retrying", exc)
                self._next_check = 0.0  # a failed publish may mean a broker that restarted empty
                stop.wait(1.0)
                continue
            if published < self.batch:
                self.wakeup.wait(stop)  # until the next row is written (or a sweep, or stopping)
        self.wakeup.close()
        try:
            self.release()
        except PyMongoError:
            pass
        self.probe.close()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
