"""The registry's MongoDB collections: queries and writes, nothing decided here.

Every write that changes a participant goes with its events in one transaction and one round
trip (`shared.mongo.write_atomically`: the writes and the outbox row in one bulkWrite, then the
commit), which is what keeps registration fast on the embedded database.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Iterable, Iterator

from pymongo import ASCENDING, DeleteMany, DeleteOne, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.database import Database

from shared.audit import AuditLog
from shared.mongo import write_atomically
from shared.outbox import Outbox

from services.registry import SERVICE
from services.registry.domain.errors import ChangedConcurrently

Events = list[tuple[str, dict]]


def _profile_query(conditions: dict) -> dict:
    """domain.directory's conditions as a query. An interest condition is an $elemMatch (topic and
    direction in the same interest) plus the topic alone, which the interests.topic index can
    serve: without it the database reads every profile to find a topic's few."""
    query = {path: ({"$elemMatch": value} if path == "interests" else value) for path, value in conditions.items()}
    if "topic" in conditions.get("interests", {}):
        query["interests.topic"] = conditions["interests"]["topic"]
    return query


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.participants = db["participants"]
        self.withdrawn = db["withdrawn"]  # tombstones: hashed id, revision, time; nothing personal
        self.topics = db["topics"]  # staff-added taxonomy topics
        self.counters = db["counters"]
        self.sign_ins = db["sign_in_requests"]  # pending single-use sign-in links
        self.staff = db["staff_accounts"]  # named staff accounts and their roles (removed ones: id and roles)
        self.audit = AuditLog(db)  # staff actions taken here (shared.audit)
        self.outbox = Outbox(db, SERVICE)

    def ensure_indexes(self) -> None:
        self.participants.create_index("username_key", unique=True)
        self.participants.create_index([("directory_key", ASCENDING)])
        self.participants.create_index("interests.topic")
        self.participants.create_index("region")  # the directory's region filter
        self.participants.create_index("email_key")
        self.topics.create_index("code", unique=True)
        self.sign_ins.create_index("subject_id")
        self.sign_ins.create_index("expires_at")
        self.staff.create_index("email_key")
        self.audit.ensure_indexes()

    # -- participants: reads

    def participant(self, participant_id: str) -> dict | None:
        return self.participants.find_one({"_id": participant_id})

    def participant_by_username(self, username_key: str) -> dict | None:
        return self.participants.find_one({"username_key": username_key})

    def participants_by_email(self, email_key: str, limit: int) -> list[dict]:
        return list(self.participants.find({"email_key": email_key}, {"languages": 1}).limit(limit))

    def tokens_valid_after(self, participant_id: str) -> tuple[bool, str | None]:
        """(whether the profile exists, its tokens_valid_after)."""
        profile = self.participants.find_one({"_id": participant_id}, {"tokens_valid_after": 1})
        return (profile is not None, profile.get("tokens_valid_after") if profile else None)

    def has_tombstone(self, tombstone_id: str) -> bool:
        return self.withdrawn.find_one({"_id": tombstone_id}, {"_id": 1}) is not None

    def directory(self, conditions: dict, after: str | None, limit: int) -> list[dict]:
        """Profiles meeting `conditions` (domain.directory.conditions) in directory order after
        the position `after`, at most `limit`."""
        query = _profile_query(conditions)
        if after is not None:
            query["directory_key"] = {"$gt": after}
        return list(self.participants.find(query).sort("directory_key", ASCENDING).limit(limit))

    def search(self, conditions: dict, name_prefix: str | None, after: str | None, limit: int) -> list[dict]:
        """Profiles meeting `conditions` whose username or name starts with `name_prefix` (any
        case), in directory order after `after`."""
        query = _profile_query(conditions)
        if name_prefix:
            pattern = {"$regex": "^" + re.escape(name_prefix), "$options": "i"}
            query["$or"] = [{"username": pattern}, {"name": pattern}, {"email_key": name_prefix.casefold()}]
        if after is not None:
            query["directory_key"] = {"$gt": after}
        return list(self.participants.find(query).sort("directory_key", ASCENDING).limit(limit))

    def profiles_for_figures(self, fields: Iterable[str]) -> Iterator[dict]:
        return self.participants.find({}, {field: 1 for field in fields})

    def withdrawn_count(self) -> int:
        return (self.counters.find_one({"_id": "withdrawn"}) or {}).get("count", 0)

    # -- participants: writes (each with its events, one transaction, one round trip)

    def insert_participant(self, profile: dict, events: Events) -> None:
        """DuplicateKeyError when the username is taken."""
        write_atomically(self.db, [InsertOne(profile, namespace=self.participants.full_name),
                                   self.outbox.insert_operation(events)])

    def replace_participant(self, before: dict, after: dict, events: Events, audit: dict | None = None) -> None:
        """ChangedConcurrently when the stored revision is no longer `before`'s; `audit`: the record
        of the staff action, written with the change."""
        def unchanged_since_read(result) -> None:
            if result.matched_count != 1:
                raise ChangedConcurrently()

        replace = ReplaceOne({"_id": before["_id"], "revision": before["revision"]}, after,
                             namespace=self.participants.full_name)
        write_atomically(self.db, [replace, self.outbox.insert_operation(events), *self._audited(audit)],
                         check=unchanged_since_read)

    def _audited(self, record: dict | None) -> list:
        return [self.audit.operation(record)] if record is not None else []

    def erase_participant(self, participant_id: str, tombstone: dict, events: Events, audit: dict | None = None) -> None:
        """The audit records that named the person keep the action but name the tombstone instead."""
        write_atomically(self.db, [*self._audited(audit),
            UpdateMany({"target.type": "participant", "target.id": participant_id},
                       {"$set": {"target.id": tombstone["_id"]}}, namespace=self.audit.collection.full_name),
            DeleteOne({"_id": participant_id}, namespace=self.participants.full_name),
            DeleteMany({"subject_id": participant_id}, namespace=self.sign_ins.full_name),
            InsertOne(tombstone, namespace=self.withdrawn.full_name),
            UpdateOne({"_id": "withdrawn"}, {"$inc": {"count": 1}}, upsert=True, namespace=self.counters.full_name),
            self.outbox.insert_operation(events),
        ])

    # -- taxonomy

    def added_topics(self) -> list[dict]:
        return list(self.topics.find({}, {"_id": 0}))

    def insert_topic(self, topic: dict) -> None:
        """DuplicateKeyError when the code exists."""
        self.topics.insert_one(dict(topic))

    # -- sign-in requests

    def insert_sign_ins(self, requests: list[dict], events: Events) -> None:
        write_atomically(self.db, [*(InsertOne(r, namespace=self.sign_ins.full_name) for r in requests),
                                   self.outbox.insert_operation(events)])

    def sign_in(self, request_id: str) -> dict | None:
        return self.sign_ins.find_one({"_id": request_id})

    def mark_sign_in(self, request_id: str, expected_status: str, status: str, at: datetime) -> bool:
        """Compare-and-set on the status: True for the one caller that moved it."""
        result = self.sign_ins.update_one({"_id": request_id, "status": expected_status},
                                          {"$set": {"status": status, "changed_at": at}})
        return result.modified_count == 1

    def delete_sign_ins_expired_before(self, moment: datetime) -> int:
        return self.sign_ins.delete_many({"expires_at": {"$lt": moment}}).deleted_count

    # -- staff accounts (each change with its event and its audit record, one transaction)

    def staff_accounts(self, include_removed: bool = False) -> list[dict]:
        query = {} if include_removed else {"status": "active"}
        return list(self.staff.find(query).sort("created_at", ASCENDING))

    def staff_account(self, staff_id: str) -> dict | None:
        return self.staff.find_one({"_id": staff_id})

    def active_staff_by_email(self, email_key: str, limit: int) -> list[dict]:
        return list(self.staff.find({"email_key": email_key, "status": "active"}, {"languages": 1}).limit(limit))

    def active_coordinators_other_than(self, staff_id: str) -> int:
        return self.staff.count_documents({"status": "active", "roles": "coordinator", "_id": {"$ne": staff_id}})

    def insert_staff(self, account: dict, events: Events, audit: dict) -> None:
        write_atomically(self.db, [InsertOne(account, namespace=self.staff.full_name),
                                   self.outbox.insert_operation(events), self.audit.operation(audit)])

    def replace_staff(self, before: dict, after: dict, events: Events, audit: dict) -> None:
        """ChangedConcurrently when the stored revision is no longer `before`'s."""
        def unchanged_since_read(result) -> None:
            if result.matched_count != 1:
                raise ChangedConcurrently()

        replace = ReplaceOne({"_id": before["_id"], "revision": before["revision"]}, after,
                             namespace=self.staff.full_name)
        write_atomically(self.db, [replace, self.outbox.insert_operation(events), self.audit.operation(audit)],
                         check=unchanged_since_read)
