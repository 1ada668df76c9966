"""Topic codes a service accepts: the base taxonomy, plus the codes staff added in the registry,
learnt from skill-registered (services never read each other's database)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable

from flask_smorest import abort
from pymongo import UpdateOne
from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from shared.taxonomy import is_base_topic


def unknown_topic_message(code: str) -> str:
    return f"unknown topic code {code!r} (see GET /taxonomy on the registry)"


def abort_unless_known(known: "KnownTopics", codes: Iterable[str], field: str = "topics") -> None:
    """A 422 naming the field for codes neither in the base taxonomy nor seen in skill-registered."""
    unknown = known.unknown(codes)
    if unknown:
        abort(422, message="unknown topic codes",
              errors={"json": {field: [unknown_topic_message(code) for code in unknown]}})


class KnownTopics:
    def __init__(self, collection: Collection):
        self.collection = collection

    def learn(self, session: ClientSession | None, code: str) -> None:
        self.learn_all(session, [code])

    def learn_all(self, session: ClientSession | None, codes: Iterable[str]) -> None:
        upserts = [self._upsert(code) for code in dict.fromkeys(codes)]
        if upserts:
            self.collection.bulk_write(upserts, session=session)

    def writes(self, envelope: dict) -> list[UpdateOne]:
        """For IdempotentHandler(writes=...) on skill-registered."""
        return [self._upsert(envelope["data"]["topic"], self.collection.full_name)]

    def unknown(self, codes: Iterable[str]) -> list[str]:
        added = [code for code in dict.fromkeys(codes) if not is_base_topic(code)]
        if not added:
            return []
        seen = {doc["_id"] for doc in self.collection.find({"_id": {"$in": added}}, {"_id": 1})}
        return [code for code in added if code not in seen]

    @staticmethod
    def _upsert(code: str, namespace: str | None = None) -> UpdateOne:
        return UpdateOne({"_id": code}, {"$setOnInsert": {"seen_at": datetime.now(timezone.utc)}}, upsert=True,
                         namespace=namespace)
