"""GET /stats: what the notifier did (counts from the delivery log)."""
from __future__ import annotations

from services.notifier.store import Store


def stats(store: Store) -> dict:
    by_status = store.count_by_status()
    sent_to_people = store.sent_to_people()
    in_first = store.sent_to_people(in_first_language=True)
    requests = store.translation_counts()
    return {
        "sent": by_status.get("sent", 0),
        "failed": by_status.get("failed", 0) + by_status.get("expired", 0),
        "retried": store.retried(),
        "queued": by_status.get("queued", 0),
        "parked": by_status.get("parked", 0),
        "skipped": by_status.get("skipped", 0),
        "cancelled": by_status.get("cancelled", 0),
        "first_language_share": round(in_first / sent_to_people, 4) if sent_to_people else None,
        "translation_requests": {"open": requests.get("open", 0), "done": requests.get("done", 0)},
        "contacts": store.known_contacts(),
    }
