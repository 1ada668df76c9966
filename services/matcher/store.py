"""The matcher's MongoDB collections: queries and writes only (the decisions are in domain/)."""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from shared.outbox import Outbox

from services.matcher.domain.matches import OPEN


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

    # ------------------------------------------------------------------ people and interests
    def person(self, participant_id: str, session=None) -> dict:
        return self.people.find_one({"_id": participant_id}, session=session) or {}

    def raise_revision(self, participant_id: str, revision: int, session=None) -> None:
        self.people.update_one({"_id": participant_id}, {"$max": {"revision": revision}}, upsert=True,
                               session=session)

    def set_person(self, participant_id: str, fields: dict, session=None) -> None:
        self.people.update_one({"_id": participant_id}, {"$set": fields}, upsert=True, session=session)

    def candidate(self, interest: str, session=None) -> dict | None:
        return self.candidates.find_one({"_id": interest}, session=session)

    def active_candidate(self, interest: str) -> dict | None:
        return self.candidates.find_one({"_id": interest, "active": True})

    def put_candidate(self, doc: dict, session=None) -> None:
        self.candidates.replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)

    def update_candidate(self, interest: str, fields: dict, session=None) -> None:
        self.candidates.update_one({"_id": interest}, {"$set": fields}, upsert=True, session=session)

    def delete_candidates_of(self, participant_id: str, session=None) -> None:
        self.candidates.delete_many({"participant_id": participant_id}, session=session)

    def active_interests(self, direction: str, topic: str | None = None, projection: dict | None = None) -> list[dict]:
        query = {"direction": direction, "active": True, **({"topic": topic} if topic else {})}
        return list(self.candidates.find(query, projection))

    def count_interests(self, direction: str) -> int:
        return self.candidates.count_documents({"direction": direction, "active": True})

    # ------------------------------------------------------------------ matches
    def match(self, match_id: str, session=None) -> dict | None:
        return self.matches.find_one({"_id": match_id}, session=session)

    def open_match(self, match_id: str, status: str, session=None) -> dict | None:
        return self.matches.find_one({"_id": match_id, "status": status}, session=session)

    def matches_of(self, participant_id: str) -> list[dict]:
        return list(self.matches.find({"participants.id": participant_id}).sort("created_at", -1))

    def open_matches_of(self, participant_id: str, session=None) -> list[dict]:
        return list(self.matches.find({"participants.id": participant_id, "status": {"$in": list(OPEN)}},
                                      session=session))

    def proposals_with(self, topic: str, participant_id: str, role: str, session=None) -> list[dict]:
        return list(self.matches.find({"topic": topic, "status": "proposed", "participants": {
            "$elemMatch": {"id": participant_id, "role": role}}}, session=session))

    def due_proposals(self, now: datetime) -> list[dict]:
        return list(self.matches.find({"status": "proposed", "expires_at": {"$lte": now}}, {"_id": 1}))

    def insert_matches(self, docs: list[dict], session=None) -> None:
        self.matches.insert_many(docs, ordered=True, session=session)

    def update_match(self, match_id: str, fields: dict, session=None) -> None:
        self.matches.update_one({"_id": match_id}, {"$set": fields}, session=session)

    def mark_member_withdrawn(self, participant_id: str, session=None) -> None:
        self.matches.update_many({"participants.id": participant_id}, {"$set": {"participants.$[p].withdrawn": True}},
                                 array_filters=[{"p.id": participant_id}], session=session)

    def match_summaries(self) -> list[dict]:
        return list(self.matches.find({}, {"participants": 1, "status": 1, "waited_seconds": 1}))

    def count_matches(self, status: str) -> int:
        return self.matches.count_documents({"status": status})

    # ------------------------------------------------------------------ claims
    def has_claim(self, key: str, session=None) -> bool:
        return self.claims.find_one({"_id": key}, {"_id": 1}, session=session) is not None

    def claim(self, claims: list[tuple[str, str]], session=None) -> set[int]:
        """Upsert (key, match id) claims; the indexes of those this write created (the others
        were held already)."""
        if not claims:
            return set()
        result = self.claims.bulk_write([UpdateOne({"_id": key}, {"$setOnInsert": {"match_id": match_id}}, upsert=True)
                                         for key, match_id in claims], ordered=True, session=session)
        return set(result.upserted_ids)

    def release_claims(self, match_id: str, session=None) -> None:
        self.claims.delete_many({"match_id": match_id}, session=session)

    def claimed(self) -> set[tuple[str, str]]:
        """(learner, topic) of every open proposal or connection."""
        return {tuple(doc["_id"].rsplit(":", 1)) for doc in self.claims.find({}, {"_id": 1})}

    # ------------------------------------------------------------------ sharers' loads
    def loads_of(self, people: list[str] | None = None, session=None) -> dict[str, dict]:
        which = {"_id": {"$in": sorted(set(people))}} if people is not None else {}
        return {doc["_id"]: doc for doc in self.loads.find(which, session=session)}

    def ensure_loads(self, people: list[str]) -> None:
        """Sharers' load documents exist before any transaction reserves from them."""
        if not people:
            return
        try:
            self.loads.bulk_write([UpdateOne({"_id": person}, {"$setOnInsert": {"open": 0}}, upsert=True)
                                   for person in sorted(set(people))], ordered=False)
        except BulkWriteError as error:  # another worker created some at the same moment
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                raise

    def raise_loads(self, raises: dict[str, tuple[int, int]], session=None) -> int:
        """Conditional raises {sharer: (open as read, by how much)}: how many went through."""
        if not raises:
            return 0
        done = self.loads.bulk_write([UpdateOne({"_id": person, "open": seen}, {"$inc": {"open": count}})
                                      for person, (seen, count) in raises.items()], ordered=True, session=session)
        return done.matched_count

    def lower_load(self, person: str, count: int = 1, session=None) -> None:
        self.loads.update_one({"_id": person, "open": {"$gte": count}}, {"$inc": {"open": -count}}, session=session)

    def set_capacity(self, person: str, capacity: int) -> dict:
        return self.loads.find_one_and_update({"_id": person}, {"$set": {"capacity": capacity},
                                                                "$setOnInsert": {"open": 0}},
                                              upsert=True, return_document=ReturnDocument.AFTER)

    # ------------------------------------------------------------------ blocks and cooldowns
    def blocks_for(self, participant_id: str | None = None) -> list[dict]:
        return list(self.blocks.find({"people": participant_id} if participant_id else {}))

    def blocks_by_id(self, pairs: list[str], session=None) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.blocks.find({"_id": {"$in": pairs}}, session=session)}

    def block_for_good(self, pair: str, people: list[str], at: datetime, session=None) -> None:
        self.blocks.update_one({"_id": pair}, {"$set": {"at": at, "people": people}, "$unset": {"until": ""}},
                               upsert=True, session=session)

    def block_until(self, pair: str, people: list[str], until: datetime, session=None) -> None:
        self.blocks.update_one({"_id": pair}, {"$set": {"until": until, "people": people}}, upsert=True,
                               session=session)

    def connected_pairs(self, now: datetime, participant_id: str | None = None) -> set[tuple[str, str]]:
        mine = {"people": participant_id} if participant_id else {}
        return {(doc["pair"], doc["topic"]) for doc in self.connected.find({**mine, "until": {"$gt": now}})}

    def set_connected(self, docs: list[dict], session=None) -> None:
        for doc in docs:
            self.connected.update_one({"_id": doc["_id"]}, {"$set": {k: v for k, v in doc.items() if k != "_id"}},
                                      upsert=True, session=session)

    # ------------------------------------------------------------------ rounds
    def take_round_lock(self, round_id: str, now: datetime, lease_until: datetime) -> None:
        """Raises DuplicateKeyError while another round holds the lock (an expired one is removed)."""
        self.locks.delete_one({"_id": "round", "lease_until": {"$lt": now}})
        self.locks.insert_one({"_id": "round", "round_id": round_id, "started_at": now, "lease_until": lease_until})

    def release_round_lock(self, round_id: str) -> None:
        self.locks.delete_one({"_id": "round", "round_id": round_id})

    def insert_round(self, doc: dict) -> None:
        self.rounds.insert_one(doc)

    def update_round(self, round_id: str, fields: dict) -> None:
        self.rounds.update_one({"_id": round_id}, {"$set": fields})

    def round(self, round_id: str) -> dict | None:
        return self.rounds.find_one({"_id": round_id})
