"""Each service's read model of token subjects: since when a participant's or staff member's tokens
count (a reissue, a role change) and whether the subject is gone (erased, removed).

Fed by the owner's events (participant-registered/-updated/-withdrawn, staff-account-changed), so
every service refuses a replaced or orphaned token the same way without calling the registry.
`valid_after` only grows and `erased` only turns on, so the order events arrive in does not matter.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from pymongo import UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from shared.tokens import PARTICIPANT, STAFF, SubjectStatus, epoch

COLLECTION = "token_subjects"
EVENT_TYPES = ("participant-registered", "participant-updated", "participant-withdrawn", "staff-account-changed")


def _key(kind: str, subject: str) -> str:
    """Keyed by a hash of the subject: an erased person's entry must stay (their old tokens keep
    failing) without keeping their id in a searchable field."""
    return f"{kind}:{hashlib.sha256(subject.encode('utf-8')).hexdigest()}"


def subject_update(envelope: dict, namespace: str | None = None) -> UpdateOne | None:
    """The write one owner event makes to the read model (None for other events); with
    `namespace`, for a client-level bulk write."""
    data = envelope["data"]
    kind = envelope["type"]
    if kind in ("participant-registered", "participant-updated", "participant-withdrawn"):
        key = _key(PARTICIPANT, data["participant_id"])
    elif kind == "staff-account-changed":
        key = _key(STAFF, data["staff_id"])
    else:
        return None
    # valid_after is kept as epoch seconds (a float): a BSON date would round it to milliseconds
    update: dict = {"$setOnInsert": {"first_seen": datetime.now(timezone.utc)}}
    valid_after = epoch(data.get("tokens_valid_after"))
    if valid_after is not None:
        update["$max"] = {"valid_after": float(valid_after)}
    if kind == "participant-withdrawn" or data.get("status") == "removed":
        update["$set"] = {"erased": True}
    return UpdateOne({"_id": key}, update, upsert=True, namespace=namespace)


class TokenSubjects:
    def __init__(self, db: Database):
        self.collection = db[COLLECTION]

    def writes(self, envelope: dict) -> list[UpdateOne]:
        """For shared.inbox.IdempotentHandler(writes=...)."""
        update = subject_update(envelope, self.collection.full_name)
        return [update] if update is not None else []

    def apply(self, session: ClientSession | None, envelope: dict) -> None:
        """Inside a handler's own transaction."""
        self.apply_all(session, [envelope])

    def apply_all(self, session: ClientSession | None, envelopes: list[dict]) -> None:
        """Several events' writes in one statement, inside a handler's own transaction."""
        updates = [update for envelope in envelopes if (update := subject_update(envelope)) is not None]
        if updates:
            self.collection.bulk_write(updates, ordered=True, session=session)

    def lookup(self, kind: str, subject: str) -> SubjectStatus | None:
        """For shared.web.create_service_app(token_status=...)."""
        doc = self.collection.find_one({"_id": _key(kind, subject)})
        if doc is None:
            return None
        return SubjectStatus(valid_after=epoch(doc.get("valid_after")), erased=bool(doc.get("erased")))
