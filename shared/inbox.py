"""Idempotent consumers: the applied event id is recorded in the same transaction as the effect."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.mongo import in_transaction

COLLECTION = "inbox"


class Inbox:
    def __init__(self, db: Database, consumer: str):
        self.db = db
        self.consumer = consumer
        self.collection = db[COLLECTION]

    def ensure_indexes(self) -> None:
        pass  # the key is _id, unique by nature

    def _key(self, event_id: str) -> str:
        return f"{self.consumer}:{event_id}"

    def seen(self, event_id: str) -> bool:
        return self.collection.find_one({"_id": self._key(event_id)}, projection={"_id": 1}) is not None

    def apply_once(self, envelope: dict, effect: Callable[[ClientSession], None]) -> bool:
        """Apply `effect(session)` unless this event was applied before; True when applied now."""
        key = self._key(envelope["id"])

        def work(session: ClientSession) -> bool:
            if self.collection.find_one({"_id": key}, session=session, projection={"_id": 1}):
                return False
            self.collection.insert_one({"_id": key, "type": envelope["type"], "subject": envelope["subject"],
                                        "applied_at": datetime.now(timezone.utc)}, session=session)
            effect(session)
            return True

        try:
            return in_transaction(self.db, work)
        except DuplicateKeyError:
            if self.seen(envelope["id"]):
                return False  # a concurrent copy applied it first
            raise

    def apply_batch(self, envelopes: list[dict], effect: Callable[[ClientSession, dict], None],
                    finish: Callable[[ClientSession], None] | None = None) -> int:
        """Apply `effect(session, envelope)` for each not-yet-applied event, all in one transaction."""
        pending = {self._key(envelope["id"]): envelope for envelope in envelopes}

        def work(session: ClientSession) -> int:
            seen = {doc["_id"] for doc in self.collection.find({"_id": {"$in": list(pending)}}, {"_id": 1},
                                                                 session=session)}
            fresh = [(key, envelope) for key, envelope in pending.items() if key not in seen]
            if fresh:
                now = datetime.now(timezone.utc)
                self.collection.insert_many([{"_id": key, "type": e["type"], "subject": e["subject"],
                                              "applied_at": now} for key, e in fresh], session=session)
            for _, envelope in fresh:
                effect(session, envelope)
            if finish is not None:
                finish(session)
            return len(fresh)

        return in_transaction(self.db, work)


WriteOps = list  # [(collection name, pymongo write model such as UpdateOne)]


class IdempotentHandler:
    """A consumer handler whose whole effect is database writes, applied once per event id.

    Give either `effect(session, envelope)` (any writes, made with the session) or
    `writes(envelope) -> [(collection, UpdateOne/InsertOne/DeleteOne ...)]`, which lets a batch
    go to the database as one bulk write per collection. The runner hands a poll's events over
    in one transaction and falls back to one at a time (with retries and the .dlq) on failure.
    """

    def __init__(self, inbox: Inbox, effect: Callable[[ClientSession, dict], None] | None = None, *,
                 writes: Callable[[dict], WriteOps] | None = None):
        if (effect is None) == (writes is None):
            raise ValueError("give exactly one of effect or writes")
        self.inbox = inbox
        self.effect = effect or self._bulk
        self.writes = writes

    def _bulk(self, session: ClientSession, envelope: dict) -> None:
        self._write(session, self.writes(envelope))

    def _write(self, session: ClientSession, operations: WriteOps) -> None:
        by_collection: dict[str, list] = {}
        for collection, operation in operations:
            by_collection.setdefault(collection, []).append(operation)
        for collection, ops in by_collection.items():
            self.inbox.db[collection].bulk_write(ops, ordered=True, session=session)

    def __call__(self, envelope: dict) -> None:
        self.inbox.apply_once(envelope, lambda session: self.effect(session, envelope))

    def apply_batch(self, envelopes: list[dict]) -> int:
        if self.writes is None:
            return self.inbox.apply_batch(envelopes, self.effect)
        collected: WriteOps = []

        def flush(session: ClientSession) -> None:
            operations = list(collected)
            collected.clear()  # a retried transaction starts collecting afresh
            self._write(session, operations)

        return self.inbox.apply_batch(envelopes, lambda session, envelope: collected.extend(self.writes(envelope)),
                                      finish=flush)
