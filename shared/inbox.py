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
