"""The resources service's MongoDB collections: queries and writes, nothing decided here."""
from __future__ import annotations

from typing import Callable, Iterable, Iterator, TypeVar

from pymongo import ASCENDING, DESCENDING, DeleteMany, DeleteOne, InsertOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from shared.audit import AuditLog
from shared.mongo import in_transaction, write_atomically
from shared.outbox import Outbox
from shared.token_subjects import TokenSubjects
from shared.topics import KnownTopics

from services.resources import SERVICE

T = TypeVar("T")
Events = list[tuple[str, dict]]


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.resources = db["resources"]
        self.requests = db["translation_requests"]
        self.outbox = Outbox(db, SERVICE)
        self.known_topics = KnownTopics(db["topics"])  # base taxonomy + codes seen in skill-registered
        self.subjects = TokenSubjects(db)  # reissues and erasures, from the registry's events
        self.audit = AuditLog(db)  # staff actions taken here (shared.audit)

    def ensure_indexes(self) -> None:
        self.resources.create_index("tokens")
        self.resources.create_index("updated_at")
        self.resources.create_index([("published_at", DESCENDING), ("_id", DESCENDING)])
        self.resources.create_index([("topics", ASCENDING)])
        self.resources.create_index([("clinic_id", ASCENDING)])
        self.resources.create_index("owner")
        self.resources.create_index("proposals.proposed_by")
        self.requests.create_index([("resource_id", ASCENDING), ("status", ASCENDING)])
        self.audit.ensure_indexes()

    def transaction(self, work: Callable[[ClientSession], T]) -> T:
        return in_transaction(self.db, work)

    # -- reads

    def resource(self, resource_id: str, session: ClientSession | None = None) -> dict | None:
        return self.resources.find_one({"_id": resource_id}, session=session)

    def resources_by_id(self, ids: list[str]) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.resources.find({"_id": {"$in": ids}})}

    def changed_since(self, since: str | None, fields: Iterable[str]) -> Iterator[dict]:
        """Resources whose `updated_at` is at or after `since` (all when None), these fields only."""
        query = {} if since is None else {"updated_at": {"$gte": since}}
        return self.resources.find(query, {field: 1 for field in fields})

    def all_resources(self, fields: Iterable[str] | None = None) -> Iterator[dict]:
        return self.resources.find({}, {field: 1 for field in fields} if fields else None)

    def requested_languages(self, request_ids: list[str], session: ClientSession | None = None) -> set[str]:
        return {doc["language"] for doc in self.requests.find({"_id": {"$in": request_ids}}, {"language": 1},
                                                              session=session)}

    def open_request_count(self) -> int:
        return self.requests.count_documents({"status": "open"})

    # -- writes

    def publish(self, resource: dict, events: Events, session: ClientSession | None = None) -> None:
        """The resource and its events in one transaction: the caller's, or one round trip of its own."""
        if session is None:
            write_atomically(self.db, [InsertOne(resource, namespace=self.resources.full_name),
                                       self.outbox.insert_operation(events)])
        else:
            self.resources.insert_one(resource, session=session)
            self.outbox.add_many(session, events)

    def hidden_resources(self) -> list[dict]:
        return list(self.resources.find({"hidden": {"$exists": True}}).sort("updated_at", DESCENDING))

    def replace_audited(self, resource: dict, record: dict) -> None:
        """The resource as staff changed it and the audit record of the change, in one transaction."""
        def work(session: ClientSession) -> None:
            self.resources.replace_one({"_id": resource["_id"]}, resource, session=session)
            self.audit.insert(record, session=session)
        self.transaction(work)

    def replace(self, resource: dict) -> None:
        self.resources.replace_one({"_id": resource["_id"]}, resource)

    def delete(self, resource_id: str) -> None:
        write_atomically(self.db, [DeleteOne({"_id": resource_id}, namespace=self.resources.full_name),
                                   DeleteMany({"resource_id": resource_id}, namespace=self.requests.full_name)])

    def set_translations(self, session: ClientSession, resource_id: str, translations: list[dict],
                         proposals: list[dict]) -> None:
        self.resources.update_one({"_id": resource_id}, {"$set": {"translations": translations,
                                                                  "proposals": proposals}}, session=session)

    def set_proposals(self, session: ClientSession, resource_id: str, proposals: list[dict]) -> None:
        self.resources.update_one({"_id": resource_id}, {"$set": {"proposals": proposals}}, session=session)

    def close_request(self, session: ClientSession, request_id: str, at: str) -> None:
        self.requests.update_one({"_id": request_id}, {"$set": {"status": "done", "done_at": at}}, session=session)

    def insert_requests(self, session: ClientSession, requests: list[dict], events: Events) -> None:
        if requests:
            self.requests.insert_many(requests, session=session)
            self.outbox.add_many(session, events)

    def unlink_person(self, session: ClientSession, participant_id: str) -> None:
        self.resources.update_many({"owner": participant_id}, {"$set": {"owner": None}}, session=session)
        self.resources.update_many({"proposals.proposed_by": participant_id},
                                   {"$set": {"proposals.$[mine].proposed_by": None}},
                                   array_filters=[{"mine.proposed_by": participant_id}], session=session)
