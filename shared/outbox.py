"""Transactional outbox: events are stored with the state change, then relayed to Kafka.

A crash between the write and the publish loses nothing (the relay finds the row on restart);
a crash between the publish and the delete re-publishes the same envelope id, which consumers'
inboxes drop. One relay per service database holds a lease, so order is kept across copies.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable

from bson import ObjectId
from pymongo import ASCENDING, InsertOne
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from shared import metrics
from shared.events import EVENT_TYPES, make_event
from shared.outbox_wake import OutboxWakeup

log = logging.getLogger(__name__)
COLLECTION = "outbox"


class Outbox:
    def __init__(self, db: Database, source: str):
        self.db = db
        self.source = source
        self.collection = db[COLLECTION]

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
        return row["events"]

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


class OutboxRelay:
    """Publishes pending outbox rows in `_id` order (each row's events in order), then deletes them."""

    LEASE_SECONDS = 10

    def __init__(self, outbox: Outbox, publisher, poll_ms: int = 20, batch: int = 500,
                 after_publish: Callable[[list[dict]], None] | None = None):
        self.outbox = outbox
        self.publisher = publisher
        self.poll = poll_ms / 1000
        self.batch = batch
        self.after_publish = after_publish  # fault-injection point for the crash tests
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{id(self)}"
        self._lease_until = 0.0
        self.wakeup = OutboxWakeup(outbox.collection, poll_seconds=self.poll)  # wake on writes, not a timer

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
            return False
        self._lease_until = now + self.LEASE_SECONDS
        return True

    def release(self) -> None:
        self.outbox.db["locks"].delete_one({"_id": "outbox-relay", "owner": self.owner})
        self._lease_until = 0.0

    def run_once(self) -> int:
        if not self._hold_lease():
            return 0
        rows = list(self.outbox.collection.find({}).sort("_id", ASCENDING).limit(self.batch))
        if not rows:
            return 0
        futures = [self.publisher.send(envelope) for row in rows for envelope in row["events"]]
        self.publisher.flush()
        for future in futures:
            future.get(timeout=30)  # raises if the broker did not take it: rows stay pending
        acked_at = datetime.now(timezone.utc)
        if self.after_publish:
            self.after_publish(rows)
        # Published rows are deleted rather than marked: cheaper for the database, and the broker
        # keeps the published history.
        self.outbox.collection.delete_many({"_id": {"$in": [row["_id"] for row in rows]}})
        self.wakeup.published(row["_id"] for row in rows)
        self._observe(rows, acked_at)
        return len(rows)

    def _observe(self, rows: list[dict], acked_at: datetime) -> None:
        """Metrics of a published batch: events per type, and each event's age at the broker's ack."""
        for envelope in (envelope for row in rows for envelope in row["events"]):
            metrics.EVENTS_PUBLISHED.labels(self.outbox.source, envelope["type"]).inc()
            metrics.OUTBOX_AGE.labels(self.outbox.source).observe(metrics.age_seconds(envelope["time"], acked_at))

    def run(self, stop: threading.Event) -> None:
        self.wakeup.start()
        while not stop.is_set():
            try:
                published = self.run_once()
            except (PyMongoError, Exception) as exc:  # keep relaying after broker or database hiccups
                log.warning("outbox relay: %s; retrying", exc)
                stop.wait(1.0)
                continue
            if published < self.batch:
                self.wakeup.wait(stop)  # until the next row is written (or a sweep, or stopping)
        self.wakeup.close()
        try:
            self.release()
        except PyMongoError:
            pass
