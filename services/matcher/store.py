"""The matcher's MongoDB collections: queries and writes only (the decisions are in domain/)."""
from __future__ import annotations

from datetime import datetime

import hashlib
import re

from pymongo import ASCENDING, InsertOne, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError

from shared.audit import AuditLog
from shared.mongo import write_all, write_atomically
from shared.outbox import Outbox

from services.matcher.domain.matches import OPEN, claim_key
from services.matcher.domain.rules import MAX_PEOPLE


def erased_key(participant_id: str) -> str:
    """An erased person's tombstone: a digest, not their id."""
    return "erased:" + hashlib.sha256(participant_id.encode("utf-8")).hexdigest()


class _Moved(Exception):
    """What a conditional write was conditioned on changed meanwhile."""


class RoundStore:
    """Rounds, their stored plans, the one-round lock and the schedule's markers (part of Store)."""

    def lock_round(self, round_id: str, session=None) -> None:
        """One round at a time: raises DuplicateKeyError while another round holds the lock."""
        self.locks.insert_one({"_id": "round", "round_id": round_id}, session=session)

    def round_lock(self) -> dict | None:
        return self.locks.find_one({"_id": "round"})

    def drop_round_lock(self, round_id: str, session=None) -> None:
        self.locks.delete_one({"_id": "round", "round_id": round_id}, session=session)

    def insert_round(self, doc: dict, session=None) -> None:
        self.rounds.insert_one(doc, session=session)

    def update_round(self, round_id: str, fields: dict, session=None, expect: dict | None = None) -> bool:
        return self.rounds.update_one({"_id": round_id, **(expect or {})}, {"$set": fields},
                                      session=session).matched_count == 1

    def round(self, round_id: str, session=None) -> dict | None:
        return self.rounds.find_one({"_id": round_id}, session=session)

    def claim_round(self, owner: str, now: datetime, lease_until: datetime, session=None) -> dict | None:
        """The oldest round waiting for a worker (requested, commit asked, or running under a lease
        that ran out: its worker died), now leased to `owner`."""
        return self.rounds.find_one_and_update(
            {"status": {"$in": ["requested", "committing", "running"]},
             "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
            {"$set": {"status": "running", "lease_owner": owner, "lease_until": lease_until},
             "$inc": {"attempts": 1}},
            sort=[("requested_at", ASCENDING)], return_document=ReturnDocument.AFTER, session=session)

    def renew_lease(self, round_id: str, owner: str, until: datetime, session=None) -> bool:
        return self.update_round(round_id, {"lease_until": until}, session=session,
                                 expect={"lease_owner": owner, "status": "running"})

    def insert_plan(self, entries: list[dict], session=None) -> None:
        if entries:
            self.plans.insert_many(entries, ordered=False, session=session)

    def plan(self, round_id: str, done: bool | None = None) -> list[dict]:
        query = {"round_id": round_id, **({"done": done} if done is not None else {})}
        return list(self.plans.find(query).sort("index", ASCENDING))

    def mark_planned(self, results: dict[str, str | None], session=None) -> None:
        for entry_id, result in results.items():
            self.plans.update_one({"_id": entry_id}, {"$set": {"done": True, "result": result}}, session=session)

    def count_written(self, round_id: str, count: int, session=None) -> None:
        self.rounds.update_one({"_id": round_id}, {"$inc": {"written": count}}, session=session)

    def drop_plan(self, round_id: str) -> None:
        self.plans.delete_many({"round_id": round_id})

    def mark_scheduled(self, due: str, round_id: str, session=None) -> None:
        """Raises DuplicateKeyError when this scheduled time has fired already."""
        self.schedule.insert_one({"_id": due, "round_id": round_id}, session=session)

    def scheduled(self, due: str) -> bool:
        return self.schedule.find_one({"_id": due}) is not None

    def plan_state(self) -> dict[str, list]:
        """What a round's plan depends on, as rows (for its fingerprint)."""
        return {
            "candidates": [(d["_id"], d.get("revision"), d.get("active"))
                           for d in self.candidates.find({}, {"revision": 1, "active": 1})],
            "loads": [(d["_id"], d.get("open"), d.get("capacity")) for d in self.loads.find()],
            "blocks": [(d["_id"], d.get("until")) for d in self.blocks.find({}, {"until": 1})],
            "connected": [(d["_id"], d.get("until")) for d in self.connected.find({}, {"until": 1})],
            "claims": [(d["_id"], d.get("match_id")) for d in self.claims.find()],
            "open": [(d["_id"], d["status"], [m["id"] for m in d["participants"]])
                     for d in self.matches.find({"status": {"$in": list(OPEN)}}, {"status": 1, "participants": 1})],
        }


class LoadStore:
    """Sharers' loads: open connections per sharer, raised atomically when a proposal reserves
    them, with the proposal itself on the fast path (part of Store)."""

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

    def reserve_one(self, match: dict, sharer: str, load_as_read: tuple[int, int | None], claim: str,
                    events: list) -> bool:
        """A one-learner proposal as one bulk write and its commit: the sharer's load raised if it
        is still (open, capacity) `load_as_read`, the learner's claim created, the match and its
        events stored. False, with nothing written, when the load moved or the claim was held."""
        return self.write_if_unchanged(self.reserve_operations(match, sharer, load_as_read, claim, events))

    def reserve_operations(self, match: dict, sharer: str, load_as_read: tuple[int, int | None], claim: str,
                           events: list) -> list:
        """reserve_one's operations: one conditional update, one claim upsert, the inserts."""
        open_count, capacity = load_as_read
        unchanged = {"_id": sharer, "open": open_count,
                     "capacity": capacity if capacity is not None else {"$exists": False}}
        return [
            UpdateOne(unchanged, {"$inc": {"open": 1}}, namespace=self.loads.full_name),
            UpdateOne({"_id": claim}, {"$setOnInsert": {"match_id": match["_id"]}}, upsert=True,
                      namespace=self.claims.full_name),
            InsertOne(match, namespace=self.matches.full_name),
            self.outbox.insert_operation(events)]

    def write_if_unchanged(self, operations: list, proposals: int = 1) -> bool:
        """The operations of `proposals` proposals (reserve_operations, join_operations: each one
        conditional update and one claim upsert), in one bulk write and its commit; False, with
        nothing written, when an update matched nothing or a claim was held."""
        def check(result) -> None:
            if result.matched_count != proposals or result.upserted_count != proposals:
                raise _Moved()  # aborts: nothing of it is written

        try:
            write_atomically(self.db, operations, check=check)
        except _Moved:
            return False
        self.outbox.written()
        return True

    def lower_load(self, person: str, count: int = 1, session=None) -> None:
        self.loads.update_one({"_id": person, "open": {"$gte": count}}, {"$inc": {"open": -count}}, session=session)

    def add_load(self, person: str, session=None) -> None:
        """One more open connection, whatever the capacity (a self-made one)."""
        self.loads.update_one({"_id": person}, {"$inc": {"open": 1}}, upsert=True, session=session)

    def set_capacity(self, person: str, capacity: int) -> dict:
        return self.loads.find_one_and_update({"_id": person}, {"$set": {"capacity": capacity},
                                                                "$setOnInsert": {"open": 0}},
                                              upsert=True, return_document=ReturnDocument.AFTER)


class ReadModelStore:
    """The registry's people and interests as the matcher keeps them (part of Store)."""

    def person(self, participant_id: str, session=None) -> dict:
        return self.people.find_one({"_id": participant_id}, session=session) or {}

    def people_and_erased(self, people: list[str], session=None) -> tuple[dict[str, dict], set[str]]:
        """The documents of `people` (by id) and those of them who withdrew (their tombstones), in one read."""
        keys = {erased_key(pid): pid for pid in people}
        docs = {doc["_id"]: doc for doc in self.people.find({"_id": {"$in": sorted({*people, *keys})}},
                                                            session=session)}
        return ({pid: docs[pid] for pid in people if pid in docs}, {pid for key, pid in keys.items() if key in docs})

    def write(self, operations: list, session=None) -> None:
        """Operations on several collections (with their namespaces) in one request."""
        write_all(self.db, operations, session)

    def arrival_operations(self, state_revisions: dict[str, int], revisions: dict[str, int],
                           candidates: list[dict]) -> list:
        """A poll's read-model writes, for one client-level bulk write: each person's newest
        participant-state revision set and skill revision raised, newer interest copies replaced."""
        operations = []
        for pid in dict.fromkeys([*state_revisions, *revisions]):
            update: dict = {}
            if pid in state_revisions:
                update["$set"] = {"state_revision": state_revisions[pid]}
            if pid in revisions:
                update["$max"] = {"revision": revisions[pid]}
            operations.append(UpdateOne({"_id": pid}, update, upsert=True, namespace=self.people.full_name))
        operations += [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True, namespace=self.candidates.full_name)
                       for doc in candidates]
        return operations

    def is_erased(self, participant_id: str, session=None) -> bool:
        return self.people.find_one({"_id": erased_key(participant_id)}, {"_id": 1}, session=session) is not None

    def erase_person(self, participant_id: str, pseudonym: str, session=None) -> None:
        """participant-withdrawn: nothing of the person stays searchable. Their own documents go,
        their place in connections keeps a pseudonym (the program's figures still count the
        connection), outcome summaries and decline reasons they wrote are removed, and a tombstone
        keyed by a hash of their id makes later events about them ignored."""
        pid, s = participant_id, session
        self.people.delete_one({"_id": pid}, session=s)
        self.people.update_one({"_id": erased_key(pid)}, {"$set": {"erased": True}}, upsert=True, session=s)
        self.candidates.delete_many({"participant_id": pid}, session=s)
        self.blocks.delete_many({"people": pid}, session=s)
        self.connected.delete_many({"people": pid}, session=s)
        self.claims.delete_many({"_id": {"$regex": f"^{re.escape(pid)}:"}}, session=s)
        self.loads.delete_one({"_id": pid}, session=s)
        self.matches.update_many({"reported_by": pid}, {"$set": {"summary": None, "summary_erased": True,
                                                                 "reported_by": pseudonym}}, session=s)
        self.matches.update_many({"created_by": pid}, {"$set": {"created_by": pseudonym}}, session=s)
        self.matches.update_many({"participants.id": pid}, {"$set": {"participants.$[p].id": pseudonym,
                                                                     "participants.$[p].withdrawn": True,
                                                                     "participants.$[p].reason": None}},
                                 array_filters=[{"p.id": pid}], session=s)
        self.matches.update_many({"left.id": pid}, {"$set": {"left.$[p].id": pseudonym, "left.$[p].reason": None}},
                                 array_filters=[{"p.id": pid}], session=s)
        self.matches.update_many({"interpretation.requested_by": pid},
                                 {"$set": {"interpretation.$[p].requested_by": pseudonym}},
                                 array_filters=[{"p.requested_by": pid}], session=s)
        self.rounds.update_many({"unmatched.participant": pid}, {"$pull": {"unmatched": {"participant": pid}}},
                                session=s)
        self.plans.delete_many({"$or": [{"sharer.participant_id": pid}, {"learners.participant_id": pid}]},
                               session=s)

    def candidate(self, interest: str, session=None) -> dict | None:
        return self.candidates.find_one({"_id": interest}, session=session)

    def active_candidate(self, interest: str) -> dict | None:
        return self.candidates.find_one({"_id": interest, "active": True})

    def waiting_learners(self, interests: list[str]) -> list[dict]:
        """The active learn interests among `interests` with no open proposal or connection (no
        claim), in the order given."""
        if not interests:
            return []  # a poll of participant events only: nothing to ask the database
        found = {doc["_id"]: doc for doc in self.candidates.find(
            {"_id": {"$in": sorted(set(interests))}, "direction": "learn", "active": True})}
        if not found:
            return []
        held = {doc["_id"] for doc in self.claims.find(
            {"_id": {"$in": sorted({claim_key(doc) for doc in found.values()})}}, {"_id": 1})}
        return [found[i] for i in dict.fromkeys(interests) if i in found and claim_key(found[i]) not in held]

    def update_candidate(self, interest: str, fields: dict, session=None) -> None:
        self.candidates.update_one({"_id": interest}, {"$set": fields}, upsert=True, session=session)

    def topic_seen(self, topic: str) -> bool:
        return self.candidates.find_one({"topic": topic}, {"_id": 1}) is not None

    def candidates_by_id(self, interests: list[str], session=None) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.candidates.find({"_id": {"$in": sorted(set(interests))}},
                                                                session=session)}

    def active_interests(self, direction: str, topic: str | None = None, projection: dict | None = None) -> list[dict]:
        query = {"direction": direction, "active": True, **({"topic": topic} if topic else {})}
        return list(self.candidates.find(query, projection))

    def active_interests_on(self, direction: str, topics: list[str]) -> list[dict]:
        return list(self.candidates.find({"direction": direction, "active": True, "topic": {"$in": sorted(set(topics))}}))

    def count_interests(self, direction: str) -> int:
        return self.candidates.count_documents({"direction": direction, "active": True})


class Store(RoundStore, LoadStore, ReadModelStore):
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
        self.plans = db["round_plans"]  # a round's planned connections, until written (or the preview)
        self.schedule = db["round_schedule"]  # one per scheduled time that fired
        self.outbox = Outbox(db, "matcher")

    def ensure_indexes(self) -> None:
        AuditLog(self.db).ensure_indexes()  # staff actions taken here (shared.audit)
        self.candidates.create_index([("topic", ASCENDING), ("direction", ASCENDING), ("active", ASCENDING)])
        self.candidates.create_index("participant_id")
        self.matches.create_index("participants.id")
        self.matches.create_index([("status", ASCENDING), ("expires_at", ASCENDING)])
        self.matches.create_index([("topic", ASCENDING), ("status", ASCENDING)])  # joinable connections of a topic
        self.claims.create_index("match_id")
        self.blocks.create_index("people")
        self.connected.create_index("people")
        self.rounds.create_index([("status", ASCENDING), ("requested_at", ASCENDING)])
        self.plans.create_index([("round_id", ASCENDING), ("index", ASCENDING)])

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

    def open_connections(self, topics: list[str] | None = None, with_room: bool = False) -> list[dict]:
        """Open connections the matcher made (learners may join them), on `topics` or all; `with_room`:
        only those with a free seat (a full one is never joined, and reading it costs as much as any other)."""
        query = {"status": {"$in": list(OPEN)}, "origin": {"$ne": "self_made"},
                 **({"topic": {"$in": sorted(set(topics))}} if topics is not None else {})}
        if with_room:
            query[f"participants.{MAX_PEOPLE - 1}"] = {"$exists": False}
        return list(self.matches.find(query))

    def update_members(self, match_id: str, expected_size: int, fields: dict, session=None) -> bool:
        """Change a connection's members only if nobody joined or left meanwhile."""
        return self.matches.update_one({"_id": match_id, "participants": {"$size": expected_size}},
                                       {"$set": fields}, session=session).matched_count == 1

    def join_one(self, as_read: dict, fields: dict, claim: str, events: list) -> bool:
        """A learner joins a connection as one bulk write and its commit: its members and score
        set to `fields` only if its status and members are still those of `as_read`, the learner's
        claim created, the events stored. False, with nothing written, when the connection changed
        (someone joined, answered or left) or the claim was held."""
        return self.write_if_unchanged(self.join_operations(as_read, fields, claim, events))

    def join_operations(self, as_read: dict, fields: dict, claim: str, events: list) -> list:
        """join_one's operations: one conditional update, one claim upsert, the events."""
        unchanged = {"_id": as_read["_id"], "status": as_read["status"], "participants": as_read["participants"]}
        return [
            UpdateOne(unchanged, {"$set": fields}, namespace=self.matches.full_name),
            UpdateOne({"_id": claim}, {"$setOnInsert": {"match_id": as_read["_id"]}}, upsert=True,
                      namespace=self.claims.full_name),
            self.outbox.insert_operation(events)]

    def due_answers(self, now: datetime) -> list[dict]:
        """Proposals past their deadline, and open connections with a joined learner past theirs."""
        return list(self.matches.find({"$or": [
            {"status": "proposed", "expires_at": {"$lte": now}},
            {"status": {"$in": list(OPEN)}, "participants": {"$elemMatch": {"joined_at": {"$ne": None},
                                                                           "response": None,
                                                                           "expires_at": {"$lte": now}}}}]},
            {"_id": 1}))

    def insert_matches(self, docs: list[dict], session=None) -> None:
        self.matches.insert_many(docs, ordered=True, session=session)

    def update_match(self, match_id: str, fields: dict, session=None) -> None:
        self.matches.update_one({"_id": match_id}, {"$set": fields}, session=session)

    def match_summaries(self) -> list[dict]:
        return list(self.matches.find({}, {"participants": 1, "status": 1, "waited_seconds": 1, "origin": 1}))

    def people_in_region(self, region: str) -> list[str]:  # as the registry's profile copies say
        return self.candidates.distinct("participant_id", {"region": region})

    def connections_where(self, topic: str | None, status: str | None, with_summary: bool, limit: int,
                          people: list[str] | None = None) -> list[dict]:
        """Matches newest first, on a topic, in a status, with an outcome summary, with one of `people`."""
        query: dict = {} if people is None else {"participants.id": {"$in": people}}
        if topic:
            query["topic"] = topic
        if status:
            query["status"] = status
        if with_summary:
            query["summary"] = {"$type": "string"}
        return list(self.matches.find(query).sort("created_at", -1).limit(limit))

    def recent_rounds(self, limit: int) -> list[dict]:
        return list(self.rounds.find({}, {"proposals": 0, "joined": 0, "unmatched": 0})
                    .sort("requested_at", -1).limit(limit))

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

    def release_claim(self, key: str, match_id: str, session=None) -> None:
        self.claims.delete_one({"_id": key, "match_id": match_id}, session=session)

    def claimed(self) -> set[tuple[str, str]]:
        """(learner, topic) of every open proposal or connection."""
        return {tuple(doc["_id"].rsplit(":", 1)) for doc in self.claims.find({}, {"_id": 1})}

    # ------------------------------------------------------------------ blocks and cooldowns
    def blocks_of(self, people: list[str] | None = None) -> list[dict]:
        """The blocks involving one of `people`, or all."""
        return list(self.blocks.find({"people": {"$in": sorted(set(people))}} if people is not None else {}))

    def blocks_by_id(self, pairs: list[str], session=None) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.blocks.find({"_id": {"$in": pairs}}, session=session)}

    def block_for_good(self, pair: str, people: list[str], at: datetime, session=None) -> None:
        self.blocks.update_one({"_id": pair}, {"$set": {"at": at, "people": people}, "$unset": {"until": ""}},
                               upsert=True, session=session)

    def block_until(self, pair: str, people: list[str], until: datetime, session=None) -> None:
        self.blocks.update_one({"_id": pair}, {"$set": {"until": until, "people": people}}, upsert=True,
                               session=session)

    def connected_of(self, now: datetime, people: list[str] | None = None) -> list[dict]:
        """The pairs still in their cooldown after a connection, involving one of `people`, or all."""
        mine = {"people": {"$in": sorted(set(people))}} if people is not None else {}
        return list(self.connected.find({**mine, "until": {"$gt": now}}))

    def set_connected(self, docs: list[dict], session=None) -> None:
        for doc in docs:
            self.connected.update_one({"_id": doc["_id"]}, {"$set": {k: v for k, v in doc.items() if k != "_id"}},
                                      upsert=True, session=session)
