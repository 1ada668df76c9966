"""The notifier's MongoDB collections: queries and writes only (the decisions are in domain/ and
service.py). Every method that takes `session` runs inside the caller's transaction."""
from __future__ import annotations

from datetime import datetime

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, DESCENDING, InsertOne, ReplaceOne, UpdateMany, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection
from pymongo.database import Database

from shared.audit import AuditLog
from shared.cursors import CursorInvalid
from shared.mongo import write_all
from shared.pseudonyms import erased_key

from services.notifier.domain.deliveries import OPEN_STATUSES, SCRUB

Session = ClientSession | None
WITHDRAWN = "withdrawn participant"  # who asked for a translation, once they are gone


class DeliveryRecords:
    """The part of Store over `deliveries`: the log, parked messages, the sender's claims and the
    outcomes of its attempts."""

    deliveries: Collection

    # ------------------------------------------------------------------ deliveries

    def delivery_writes(self, docs: list[dict]) -> list[InsertOne]:
        """New deliveries, each with a `seq` (the delivery log's order, newest last), as operations
        of a client-level bulk write (Store.write)."""
        for doc in docs:
            doc.setdefault("seq", ObjectId())
        return [InsertOne(doc, namespace=self.deliveries.full_name) for doc in docs]

    def parked_awaiting(self, keys: list[str], session: Session = None) -> list[dict]:
        """The parked messages waiting for one of these contacts, each once."""
        return list(self.deliveries.find({"awaiting": {"$in": sorted(set(keys))}, "status": "parked"},
                                         session=session))

    def parked_writes(self, released: dict[str, dict], waiting: dict[str, list[str]]) -> list[UpdateOne]:
        """Parked messages, as operations of a client-level bulk write: `released` (id -> its fields
        once queued or skipped) leave the parking, `waiting` (id -> the contacts still missing) wait on."""
        unpark = {"envelope": "", "parked_until": "", "awaiting": ""}
        namespace = self.deliveries.full_name
        operations = [UpdateOne({"_id": notification_id, "status": "parked"}, {"$set": ready, "$unset": unpark},
                                namespace=namespace)
                      for notification_id, ready in released.items()]
        operations += [UpdateOne({"_id": notification_id, "status": "parked"}, {"$set": {"awaiting": awaiting}},
                                 namespace=namespace)
                       for notification_id, awaiting in waiting.items()]
        return operations

    def due_parked(self, now: datetime, limit: int) -> list[dict]:
        return list(self.deliveries.find({"status": "parked", "parked_until": {"$lt": now}},
                                         {"envelope": 0}).limit(limit))

    def is_parked(self, notification_id: str, session: Session = None) -> bool:
        return self.deliveries.find_one({"_id": notification_id, "status": "parked"}, {"_id": 1},
                                        session=session) is not None

    def close_delivery(self, notification_id: str, status: str, error: str, entry: dict, now: datetime,
                       session: Session = None) -> None:
        """A delivery that will never be sent (failed, expired): its log entry, its message gone."""
        self.deliveries.update_one(
            {"_id": notification_id},
            {"$set": {"status": status, "error": error, "updated_at": now}, "$push": {"log": entry},
             "$unset": SCRUB}, session=session)

    def delivery_page(self, *, participant: str | None, event_id: str | None, status: str | None,
                      before: str | None, limit: int) -> tuple[list[dict], str | None]:
        """The delivery log, newest first, without messages or addresses; `before`: a page's `next`."""
        match: dict = {}
        if participant:
            match["participant_id"] = participant
        if event_id:
            match["event_id"] = event_id
        if status:
            match["status"] = status
        if before is not None:
            try:
                match["seq"] = {"$lt": ObjectId(before)}
            except (InvalidId, TypeError) as exc:
                raise CursorInvalid("not a cursor from a previous page") from exc
        docs = list(self.deliveries.find(match, {"message": 0, "envelope": 0, "to": 0})
                    .sort("seq", -1).limit(limit + 1))
        following = str(docs[limit - 1]["seq"]) if len(docs) > limit else None
        return docs[:limit], following

    # ------------------------------------------------------------------ the sender's claims

    def due_unclaimed(self, now: datetime, limit: int) -> list[str]:
        return [doc["_id"] for doc in self.deliveries.find(
            {"status": "queued", "claim": None, "due_at": {"$lte": now}}, {"_id": 1}).sort("due_at", 1).limit(limit)]

    def lapsed_claims(self, now: datetime, limit: int) -> list[dict]:
        return list(self.deliveries.find({"status": "queued", "claimed_until": {"$lt": now}},
                                         {"_id": 1, "claim": 1}).limit(limit))

    def claim(self, free: list[str], stale: list[dict], claim: str, until: datetime) -> list[dict]:
        """Take `free` (unclaimed) and `stale` (lapsed) messages for `claim`; those now held by it."""
        mark = {"$set": {"claim": claim, "claimed_until": until}}
        if free:
            self.deliveries.update_many({"_id": {"$in": free}, "status": "queued", "claim": None}, mark)
        for doc in stale:  # claimed by a copy that died (or fell far behind): rare, one at a time
            self.deliveries.update_one({"_id": doc["_id"], "status": "queued", "claim": doc.get("claim")}, mark)
        ids = free + [doc["_id"] for doc in stale]
        if not ids:
            return []
        return list(self.deliveries.find({"_id": {"$in": ids}, "claim": claim}).sort("due_at", 1))

    def still_claimed(self, claims: dict[str, str]) -> set[str]:
        """Of these {id: claim}, the messages still queued under that claim."""
        rows = self.deliveries.find({"_id": {"$in": list(claims)}, "status": "queued"}, {"_id": 1, "claim": 1})
        return {row["_id"] for row in rows if row.get("claim") == claims[row["_id"]]}

    def record_outcomes(self, outcomes: list[tuple[dict, object]], now: datetime, session: Session = None) -> None:
        """The outcome of each attempt (domain.retry.Outcome) for messages held by their claim: sent
        ones in one update per claim, retries rescheduled, failures closed."""
        operations = []
        sent: dict[tuple[int, str], list[str]] = {}
        for doc, outcome in outcomes:
            match = {"_id": doc["_id"], "claim": doc["claim"]}
            entry = outcome.log_entry(now)
            if outcome.status == "sent":
                sent.setdefault((outcome.attempts, doc["claim"]), []).append(doc["_id"])
            elif outcome.status == "failed":
                operations.append(UpdateOne(match, {
                    "$set": {"status": "failed", "error": outcome.reason[:500], "attempts": outcome.attempts,
                             "updated_at": now},
                    "$push": {"log": entry}, "$unset": SCRUB}))
            else:
                operations.append(UpdateOne(match, {
                    "$set": {"status": "queued", "due_at": outcome.due_at(now), "attempts": outcome.attempts,
                             "error": outcome.failure.error, "updated_at": now},
                    "$push": {"log": entry}, "$unset": {"claim": "", "claimed_until": ""}}))
        for (attempts, claim), ids in sent.items():  # usually one update for a whole batch
            entry = {"attempt": attempts, "at": now, "outcome": "sent", "code": 250, "error": None}
            operations.append(UpdateMany(
                {"_id": {"$in": ids}, "claim": claim},
                {"$set": {"status": "sent", "sent_at": now, "attempts": attempts, "updated_at": now},
                 "$push": {"log": entry}, "$unset": {**SCRUB, "error": ""}}))
        if operations:
            self.deliveries.bulk_write(operations, ordered=False, session=session)


class Store(DeliveryRecords):
    def __init__(self, db: Database):
        self.db = db
        self.contacts = db["contacts"]            # registry read model (or a tombstone after withdrawal)
        self.staff_contacts = db["staff_contacts"]  # staff accounts' addresses (staff-account-changed)
        self.preferences = db["preferences"]
        self.deliveries = db["deliveries"]
        self.resources = db["resources"]          # resource-published read model (by clinic, by topic)
        self.digest_items = db["digest_items"]    # resources waiting for a person's next digest
        self.digests = db["digests"]              # when each person last got a digest
        self.translation_requests = db["translation_requests"]
        self.audit = AuditLog(db)  # staff actions: closing and taking translation requests
        self.template_requests = db["template_requests"]  # one per (template, language), ever

    def write(self, operations: list, session: Session = None) -> None:
        """Operations on several collections (the *_writes methods) in one request."""
        write_all(self.db, operations, session)

    def ensure_indexes(self) -> None:
        self.audit.ensure_indexes()  # staff actions taken here (shared.audit)
        self.deliveries.create_index([("key", ASCENDING)], unique=True)
        self.deliveries.create_index([("participant_id", ASCENDING), ("seq", DESCENDING)])
        self.deliveries.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        self.deliveries.create_index([("status", ASCENDING), ("claimed_until", ASCENDING)])
        self.deliveries.create_index([("event_id", ASCENDING)])
        self.deliveries.create_index([("awaiting", ASCENDING)], sparse=True)
        self.deliveries.create_index([("named", ASCENDING)], sparse=True)
        self.translation_requests.create_index([("requested_by", ASCENDING)])
        self.contacts.create_index([("topics", ASCENDING)])
        self.resources.create_index([("clinic_id", ASCENDING)])
        self.digest_items.create_index([("participant_id", ASCENDING), ("created_at", ASCENDING)])
        self.translation_requests.create_index([("status", ASCENDING), ("created_at", ASCENDING)])

    # ------------------------------------------------------------------ contacts

    def contact(self, pid: str, session: Session = None) -> dict | None:
        return self.contacts_of([pid], session).get(pid)

    def contacts_of(self, pids, session: Session = None) -> dict[str, dict]:
        """Each participant's contact, or their tombstone once they withdrew (kept under
        erased_key(pid), never their id)."""
        pids = list(pids)
        if not pids:
            return {}
        buried = {erased_key(pid): pid for pid in pids}
        found: dict[str, dict] = {}
        for contact in self.contacts.find({"_id": {"$in": pids + list(buried)}}, session=session):
            pid = buried.get(contact["_id"], contact["_id"])
            if pid not in found or contact.get("withdrawn"):
                found[pid] = contact
        return found

    def bury_contact(self, pid: str, tombstone: dict, session: Session = None) -> None:
        """Replace a withdrawn participant's contact with a tombstone that does not name them."""
        self.contacts.delete_one({"_id": pid}, session=session)
        self.contacts.replace_one({"_id": erased_key(pid)}, {**tombstone, "_id": erased_key(pid)}, upsert=True,
                                  session=session)

    def staff_contacts_of(self, staff_ids, session: Session = None) -> dict[str, dict]:
        staff_ids = list(staff_ids)
        if not staff_ids:
            return {}
        return {c["_id"]: c for c in self.staff_contacts.find({"_id": {"$in": staff_ids}}, session=session)}

    def staff_contact(self, staff_id: str, session: Session = None) -> dict | None:
        return self.staff_contacts.find_one({"_id": staff_id}, session=session)

    def replace_staff_contact(self, contact: dict, session: Session = None) -> None:
        self.staff_contacts.replace_one({"_id": contact["_id"]}, contact, upsert=True, session=session)

    def contact_writes(self, contacts: list[dict]) -> list[ReplaceOne]:
        """Each contact replaced (or added), as operations of a client-level bulk write."""
        return [ReplaceOne({"_id": contact["_id"]}, contact, upsert=True, namespace=self.contacts.full_name)
                for contact in contacts]

    def readers_of(self, topics, session: Session = None) -> list[dict]:
        """Everyone (not withdrawn) interested in one of `topics`."""
        return list(self.contacts.find({"topics": {"$in": list(topics)}, "withdrawn": {"$ne": True}},
                                       session=session))

    def forget_person(self, pid: str, now: datetime, session: Session = None) -> None:
        """Erasure in the notifier's own records: the person's pending mail cancelled; addresses,
        subjects and stored messages gone from their log; other people's pending mail that names
        them cancelled (their name or words would be in it); their preferences, waiting digest items
        and the translation requests they made about their own connections deleted, the others no
        longer saying who asked."""
        open_ = {"$in": list(OPEN_STATUSES)}
        self._cancel({"participant_id": pid, "status": open_}, "participant withdrawn", now, session)
        self._cancel({"named": pid, "status": open_}, "a person it names withdrew", now, session)
        own_requests = [r["event_id"] for r in self.translation_requests.find(
            {"requested_by": pid, "subject_kind": "connection"}, {"event_id": 1}, session=session)]
        if own_requests:
            self._cancel({"event_id": {"$in": own_requests}, "status": open_}, "its requester withdrew", now, session)
        forgotten = {"$unset": {**SCRUB, "subject": "", "awaiting": ""}}
        self.deliveries.update_many({"named": pid}, forgotten, session=session)
        if own_requests:
            self.deliveries.update_many({"event_id": {"$in": own_requests}}, forgotten, session=session)
        # their own log lines stay (counts, outcomes) under a digest instead of their id, in the
        # participant field and in the idempotency key alike
        for line in self.deliveries.find({"participant_id": pid}, {"key": 1}, session=session):
            self.deliveries.update_one({"_id": line["_id"]}, {
                "$set": {"participant_id": erased_key(pid), "key": line["key"].replace(pid, erased_key(pid))},
                "$unset": forgotten["$unset"]}, session=session)
        # written, then deleted: a preferences change running at the same time conflicts with this
        # transaction (and retries, then sees the tombstone) instead of creating a record afterwards
        self.preferences.replace_one({"_id": pid}, {"_id": pid, "erased": True}, upsert=True, session=session)
        self.preferences.delete_one({"_id": pid}, session=session)
        self.digest_items.delete_many({"participant_id": pid}, session=session)
        self.digests.delete_one({"_id": pid}, session=session)
        self.translation_requests.delete_many({"requested_by": pid, "subject_kind": "connection"}, session=session)
        self.translation_requests.update_many({"requested_by": pid}, {"$set": {"requested_by": WITHDRAWN}},
                                              session=session)

    def _cancel(self, match: dict, reason: str, now: datetime, session: Session) -> None:
        self.deliveries.update_many(match, {"$set": {"status": "cancelled", "error": reason, "updated_at": now},
                                            "$unset": SCRUB}, session=session)

    # ------------------------------------------------------------------ preferences

    def preference(self, pid: str, session: Session = None) -> dict | None:
        return self.preferences.find_one({"_id": pid}, session=session)

    def preferences_of(self, pids, session: Session = None) -> dict[str, dict]:
        pids = list(pids)
        if not pids:
            return {}
        return {p["_id"]: p for p in self.preferences.find({"_id": {"$in": pids}}, session=session)}

    def save_preferences(self, pid: str, preferences: dict, session: Session = None) -> None:
        self.preferences.update_one({"_id": pid}, {"$set": preferences}, upsert=True, session=session)

    # ------------------------------------------------------------------ resources and digests

    def save_resource(self, resource: dict, session: Session = None) -> None:
        self.resources.replace_one({"_id": resource["_id"]}, resource, upsert=True, session=session)

    def clinic_resources(self, clinic_ids, session: Session = None) -> dict[str, list[dict]]:
        """Resources published for these clinics, oldest first, by clinic."""
        found: dict[str, list[dict]] = {}
        clinic_ids = list(clinic_ids)
        if clinic_ids:
            for resource in self.resources.find({"clinic_id": {"$in": clinic_ids}}, session=session) \
                    .sort("published_at", 1):
                found.setdefault(resource["clinic_id"], []).append(resource)
        return found

    def resources_by_id(self, ids, session: Session = None) -> list[dict]:
        return list(self.resources.find({"_id": {"$in": list(ids)}}, session=session).sort("published_at", 1))

    def add_digest_items(self, resource_id: str, pids, now: datetime, session: Session = None) -> None:
        for pid in pids:
            self.digest_items.update_one(
                {"_id": f"{resource_id}:{pid}"},
                {"$setOnInsert": {"participant_id": pid, "resource_id": resource_id, "created_at": now}},
                upsert=True, session=session)

    def digest_readers(self) -> list[str]:
        return self.digest_items.distinct("participant_id")

    def digest_items_of(self, pid: str, session: Session = None) -> list[dict]:
        return list(self.digest_items.find({"participant_id": pid}, session=session).sort("created_at", 1))

    def last_digest(self, pid: str, session: Session = None) -> dict:
        return self.digests.find_one({"_id": pid}, session=session) or {}

    def digest_sent(self, pid: str, item_ids: list[str], now: datetime, number: int, session: Session = None) -> None:
        self.digest_items.delete_many({"_id": {"$in": item_ids}}, session=session)
        self.digests.update_one({"_id": pid}, {"$set": {"sent_at": now, "count": number}}, upsert=True,
                                session=session)

    # ------------------------------------------------------------------ translation requests

    def add_translation_request(self, request_id: str, record: dict, session: Session = None) -> None:
        """Stored once per request id (a redelivered or repeated request changes nothing)."""
        self.translation_requests.update_one({"_id": request_id}, {"$setOnInsert": record}, upsert=True,
                                             session=session)

    def translation_request(self, request_id: str, session: Session = None) -> dict | None:
        return self.translation_requests.find_one({"_id": request_id}, session=session)

    def update_open_request(self, request_id: str, changes: dict, session: Session = None) -> None:
        self.translation_requests.update_one({"_id": request_id, "status": "open"}, {"$set": changes},
                                             session=session)

    def translation_page(self, *, status: str | None, language: str | None, after: str | None,
                         limit: int) -> tuple[list[dict], str | None]:
        """Translation requests in id order; `after`: the last id of the previous page."""
        match: dict = {}
        if status:
            match["status"] = status
        if language:
            match["language"] = language
        if after is not None:
            match["_id"] = {"$gt": after}
        docs = list(self.translation_requests.find(match).sort("_id", 1).limit(limit + 1))
        following = docs[limit - 1]["_id"] if len(docs) > limit else None
        return docs[:limit], following

    def first_template_request(self, template: str, language: str, now: datetime, session: Session = None) -> bool:
        """Record that translators were asked for this template in this language; False if they were before."""
        result = self.template_requests.update_one(
            {"_id": f"{template}:{language}"},
            {"$setOnInsert": {"template": template, "language": language, "requested_at": now}},
            upsert=True, session=session)
        return result.upserted_id is not None

    # ------------------------------------------------------------------ figures for /stats

    def count_by_status(self) -> dict[str, int]:
        return {row["_id"]: row["n"] for row in self.deliveries.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

    def sent_to_people(self, in_first_language: bool = False) -> int:
        match: dict = {"status": "sent", "participant_id": {"$ne": None}}
        if in_first_language:
            match["$expr"] = {"$eq": ["$language", "$first_language"]}
        return self.deliveries.count_documents(match)

    def retried(self) -> int:
        return self.deliveries.count_documents({"attempts": {"$gt": 1}})

    def translation_counts(self) -> dict[str, int]:
        return {row["_id"]: row["n"] for row in self.translation_requests.aggregate(
            [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

    def known_contacts(self) -> int:
        return self.contacts.count_documents({"withdrawn": {"$ne": True}})
