"""The notifier's MongoDB collections and their indexes."""
from __future__ import annotations

from pymongo import ASCENDING, DESCENDING
from pymongo.database import Database

# deliveries: one document per (event, recipient, template): the message, its status and the log
# of every attempt. Statuses: parked (no contact yet), queued (due at `due_at`; `claim` and
# `claimed_until` say which sender holds it), sent, failed, expired (parked too long),
# cancelled (withdrawn), skipped (preferences).
OPEN_STATUSES = ("parked", "queued")
FINAL_STATUSES = ("sent", "failed", "expired", "cancelled", "skipped")


class Store:
    def __init__(self, db: Database):
        self.db = db
        self.contacts = db["contacts"]            # registry read model (or a tombstone after withdrawal)
        self.preferences = db["preferences"]
        self.deliveries = db["deliveries"]
        self.resources = db["resources"]          # resource-published read model (by clinic, by topic)
        self.digest_items = db["digest_items"]    # resources waiting for a person's next digest
        self.digests = db["digests"]              # when each person last got a digest
        self.translation_requests = db["translation_requests"]
        self.template_requests = db["template_requests"]  # one per (template, language), ever

    def ensure_indexes(self) -> None:
        self.deliveries.create_index([("key", ASCENDING)], unique=True)
        self.deliveries.create_index([("participant_id", ASCENDING), ("seq", DESCENDING)])
        self.deliveries.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        self.deliveries.create_index([("status", ASCENDING), ("claimed_until", ASCENDING)])
        self.deliveries.create_index([("event_id", ASCENDING)])
        self.deliveries.create_index([("awaiting", ASCENDING)], sparse=True)
        self.contacts.create_index([("topics", ASCENDING)])
        self.resources.create_index([("clinic_id", ASCENDING)])
        self.digest_items.create_index([("participant_id", ASCENDING), ("created_at", ASCENDING)])
        self.translation_requests.create_index([("status", ASCENDING), ("created_at", ASCENDING)])
