"""The registry's MongoDB collections and indexes."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.database import Database

from shared.outbox import Outbox


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.participants = db["participants"]
        self.withdrawn = db["withdrawn"]  # tombstones: id, revision, time; nothing personal
        self.topics = db["topics"]  # staff-added taxonomy topics
        self.counters = db["counters"]
        self.outbox = Outbox(db, "registry")

    def ensure_indexes(self) -> None:
        self.participants.create_index("username_key", unique=True)
        self.participants.create_index([("directory_key", ASCENDING)])
        self.participants.create_index("interests.topic")
        self.topics.create_index("code", unique=True)
