"""The matcher's MongoDB collections and indexes."""
from __future__ import annotations

from pymongo import ASCENDING
from pymongo.database import Database

from shared.outbox import Outbox


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.candidates = db["candidates"]  # one per interest: the owner's attributes copied in
        self.people = db["people"]  # revision and withdrawal per participant
        self.matches = db["matches"]
        self.claims = db["claims"]  # one per learner interest with an open proposal or connection
        self.loads = db["loads"]  # a sharer's open connections (the atomic reservation)
        self.blocks = db["blocks"]  # pairs that declined each other
        self.connected = db["connected"]  # pair + topic already connected (cooldown)
        self.rounds = db["rounds"]
        self.locks = db["round_locks"]
        self.outbox = Outbox(db, "matcher")

    def ensure_indexes(self) -> None:
        self.candidates.create_index([("topic", ASCENDING), ("direction", ASCENDING), ("active", ASCENDING)])
        self.candidates.create_index("participant_id")
        self.matches.create_index("participants.id")
        self.matches.create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
        self.claims.create_index("match_id")
        self.blocks.create_index("people")
        self.connected.create_index("people")
