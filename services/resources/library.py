"""The resources service layer: publish, change, translate; state and events in one transaction."""
from __future__ import annotations

import uuid

from shared.events import utcnow_iso
from shared.mongo import in_transaction

from services.resources.search import tokens
from services.resources.store import Store


class NotFound(Exception):
    pass


def published_event(resource: dict) -> dict:
    return {"resource_id": resource["_id"], "title": resource["title"], "description": resource["description"],
            "kind": resource["kind"], "url": resource["url"], "language": resource["language"],
            "topics": resource["topics"], "clinic_id": resource.get("clinic_id"), "authors": resource["authors"],
            "license": resource["license"], "published_at": resource["published_at"]}


class Library:
    def __init__(self, store: Store):
        self.store = store

    def _document(self, data: dict, owner: str | None, resource_id: str | None = None) -> dict:
        now = utcnow_iso()
        return {"_id": resource_id or uuid.uuid4().hex, "title": data["title"], "description": data["description"],
                "kind": data["kind"], "url": data["url"], "language": data["language"], "topics": data["topics"],
                "clinic_id": data.get("clinic"), "authors": data["authors"], "license": data["license"],
                "consent": data["consent"], "owner": owner, "translations": [],
                "tokens": tokens(f"{data['title']} {data['description']}"), "published_at": now, "updated_at": now}

    def publish(self, data: dict, owner: str | None, session=None, resource_id: str | None = None) -> dict:
        resource = self._document(data, owner, resource_id)

        def work(s):
            self.store.resources.insert_one(resource, session=s)
            self.store.outbox.add(s, "resource-published", published_event(resource))

        if session is not None:
            work(session)
        else:
            in_transaction(self.store.db, work)
        return resource

    def get(self, resource_id: str) -> dict:
        resource = self.store.resources.find_one({"_id": resource_id})
        if resource is None:
            raise NotFound(resource_id)
        return resource

    def update(self, resource_id: str, changes: dict) -> dict:
        resource = self.get(resource_id)
        merged = {**resource, **{k if k != "clinic" else "clinic_id": v for k, v in changes.items()}}
        merged["tokens"] = tokens(f"{merged['title']} {merged['description']}")
        merged["updated_at"] = utcnow_iso()
        self.store.resources.replace_one({"_id": resource_id}, merged)
        return merged

    def delete(self, resource_id: str) -> None:
        self.get(resource_id)
        self.store.resources.delete_one({"_id": resource_id})
        self.store.requests.delete_many({"resource_id": resource_id})

    def add_translation(self, resource_id: str, translation: dict) -> dict:
        def work(session):
            resource = self.store.resources.find_one({"_id": resource_id}, session=session)
            if resource is None:
                raise NotFound(resource_id)
            kept = [t for t in resource["translations"] if t["language"] != translation["language"]]
            kept.append({**translation, "added_at": utcnow_iso()})
            self.store.resources.update_one({"_id": resource_id}, {"$set": {"translations": kept}}, session=session)
            self.store.requests.update_one({"_id": f"{resource_id}:{translation['language']}"},
                                           {"$set": {"status": "done", "done_at": utcnow_iso()}}, session=session)
            return {**resource, "translations": kept}

        return in_transaction(self.store.db, work)

    def request_translations(self, resource_id: str, languages: list[str]) -> list[dict]:
        """One translation-requested per language not yet translated nor already requested."""
        def work(session):
            resource = self.store.resources.find_one({"_id": resource_id}, session=session)
            if resource is None:
                raise NotFound(resource_id)
            have = {resource["language"]} | {t["language"] for t in resource["translations"]}
            created = []
            for language in dict.fromkeys(languages):
                request_id = f"{resource_id}:{language}"
                if language in have or self.store.requests.find_one({"_id": request_id}, session=session):
                    continue
                request = {"_id": request_id, "resource_id": resource_id, "language": language, "status": "open",
                           "requested_at": utcnow_iso()}
                self.store.requests.insert_one(request, session=session)
                self.store.outbox.add(session, "translation-requested", {
                    "request_id": request_id, "subject_kind": "resource", "subject_id": resource_id,
                    "language": language, "source_language": resource["language"], "title": resource["title"],
                    "url": resource["url"], "requested_by": "resources"})
                created.append(request)
            return created

        return in_transaction(self.store.db, work)
