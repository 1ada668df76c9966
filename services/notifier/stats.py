"""GET /stats: what the notifier did (counts from the delivery log)."""
from __future__ import annotations

from services.notifier.store import Store


def notifier_stats(store: Store) -> dict:
    by_status = {row["_id"]: row["n"] for row in store.deliveries.aggregate(
        [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}
    sent_to_people = store.deliveries.count_documents({"status": "sent", "participant_id": {"$ne": None}})
    in_first = store.deliveries.count_documents({"status": "sent", "participant_id": {"$ne": None},
                                                 "$expr": {"$eq": ["$language", "$first_language"]}})
    requests = {row["_id"]: row["n"] for row in store.translation_requests.aggregate(
        [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}
    return {
        "sent": by_status.get("sent", 0),
        "failed": by_status.get("failed", 0) + by_status.get("expired", 0),
        "retried": store.deliveries.count_documents({"attempts": {"$gt": 1}}),
        "queued": by_status.get("queued", 0),
        "parked": by_status.get("parked", 0),
        "skipped": by_status.get("skipped", 0),
        "cancelled": by_status.get("cancelled", 0),
        "first_language_share": round(in_first / sent_to_people, 4) if sent_to_people else None,
        "translation_requests": {"open": requests.get("open", 0), "done": requests.get("done", 0)},
        "contacts": store.contacts.count_documents({"withdrawn": {"$ne": True}}),
    }
