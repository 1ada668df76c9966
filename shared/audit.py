"""The audit log of staff actions (issue 15), kept by the service that performs each action.

Every staff action (who, with which role, what, on what, when, and before/after where it is a
change) is written to the service's own `audit` collection in the same transaction as the action
itself: an action without its record, or a record of an action that did not happen, cannot occur.
Records name the staff account by id (and keep the roles it acted with), so they outlive the
account's removal; nothing ever deletes them. `GET /audit` on each service lists them for
coordinators (shared/roles.py), filtered by actor, action and time.

Personal data does not belong in the log: `changes()` keeps the names of the fields a change
touched and their values only for fields outside `PERSONAL_FIELDS` (an address or a name shows as
"(changed)").
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime

from pymongo import DESCENDING, InsertOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from shared.clock import iso, utcnow
from shared.tokens import Principal

COLLECTION = "audit"
PERSONAL_FIELDS = frozenset({"email", "name", "username", "username_key", "email_key", "display_name", "contact"})
CHANGED = "(changed)"
MAX_PAGE = 200


def actor_of(found: Principal) -> dict:
    """Who acted, as the record keeps it: the staff account (or machine token) and its roles."""
    return {"id": found.subject, "kind": found.kind, "roles": sorted(found.roles)}


def changes(before: dict | None, after: dict | None, fields=None) -> tuple[dict, dict]:
    """(before, after) restricted to the fields that differ (of `fields`, when given), personal
    values replaced by a marker."""
    before, after = before or {}, after or {}
    names = fields if fields is not None else sorted(set(before) | set(after))
    old, new = {}, {}
    for name in names:
        if name in ("_id", "revision", "updated_at") or before.get(name) == after.get(name):
            continue
        personal = name in PERSONAL_FIELDS
        old[name] = CHANGED if personal and name in before else before.get(name)
        new[name] = CHANGED if personal and name in after else after.get(name)
    return old, new


def _plain(value):
    """Values as JSON shows them (times as ISO 8601), so a record reads the same from any service."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def entry(actor: dict, action: str, target_type: str, target_id: str, before: dict | None = None,
          after: dict | None = None, at: datetime | None = None, note: str | None = None) -> dict:
    """One audit record (a plain dict; `AuditLog` stores it)."""
    # ids sort in the order records were made (a time prefix): ties on `at` (BSON keeps milliseconds)
    # still list newest first
    record = {"_id": f"{time.time_ns():016x}{uuid.uuid4().hex[:16]}", "at": at or utcnow(), "actor": actor, "action": action,
              "target": {"type": target_type, "id": target_id}}
    if before is not None:
        record["before"] = _plain(before)
    if after is not None:
        record["after"] = _plain(after)
    if note:
        record["note"] = note
    return record


def public(record: dict) -> dict:
    """A record as GET /audit shows it."""
    out = {"id": record["_id"], "at": record["at"], "actor": record["actor"], "action": record["action"],
           "target": record["target"]}
    for key in ("before", "after", "note"):
        if key in record:
            out[key] = record[key]
    return out


class AuditLog:
    """A service's audit collection: the write that goes with an action, and the list."""

    def __init__(self, db: Database):
        self.collection = db[COLLECTION]

    def ensure_indexes(self) -> None:
        self.collection.create_index([("at", DESCENDING)])
        self.collection.create_index([("actor.id", 1), ("at", DESCENDING)])
        self.collection.create_index([("action", 1), ("at", DESCENDING)])

    def operation(self, record: dict) -> InsertOne:
        """For shared.mongo.write_atomically: the record in the action's own bulk write."""
        return InsertOne(record, namespace=self.collection.full_name)

    def insert(self, record: dict, session: ClientSession | None = None) -> None:
        """Inside the action's transaction (`session`)."""
        self.collection.insert_one(record, session=session)

    def records(self, actor: str | None = None, action: str | None = None, since: datetime | None = None,
                before: datetime | None = None, limit: int = 50) -> list[dict]:
        """Newest first; `before`: the `at` of the last record of the previous page."""
        query: dict = {}
        if actor:
            query["actor.id"] = actor
        if action:
            query["action"] = action
        if since is not None or before is not None:
            query["at"] = {**({"$gte": since} if since is not None else {}),
                           **({"$lt": before} if before is not None else {})}
        return list(self.collection.find(query).sort([("at", DESCENDING), ("_id", DESCENDING)])
                    .limit(max(1, min(limit, MAX_PAGE))))
