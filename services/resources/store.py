"""The resources service's MongoDB collections and indexes."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

from shared.outbox import Outbox
from shared.topics import KnownTopics


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.resources = db["resources"]
        self.requests = db["translation_requests"]
        self.outbox = Outbox(db, "resources")
        self.known_topics = KnownTopics(db["topics"])  # base taxonomy + codes seen in skill-registered

    def ensure_indexes(self) -> None:
        self.resources.create_index("tokens")
        self.resources.create_index("updated_at")
        self.resources.create_index([("published_at", DESCENDING), ("_id", DESCENDING)])
        self.resources.create_index([("topics", ASCENDING)])
        self.resources.create_index([("clinic_id", ASCENDING)])
        self.requests.create_index([("resource_id", ASCENDING), ("status", ASCENDING)])
