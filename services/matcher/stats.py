"""GET /stats: proposals and their fate, people connected, acceptance, time to proposal."""
from __future__ import annotations

from statistics import median

from services.matcher.store import Store


def matcher_stats(store: Store) -> dict:
    counts = {status: store.matches.count_documents({"status": status})
              for status in ("proposed", "confirmed", "declined", "expired", "completed", "withdrawn")}
    total = sum(counts.values())
    connected = set()
    waits = []
    for match in store.matches.find({}, {"participants": 1, "status": 1, "waited_seconds": 1}):
        if match["status"] in ("confirmed", "completed"):
            connected.update(m["id"] for m in match["participants"])
        waits.extend(match.get("waited_seconds", []))
    answered = counts["confirmed"] + counts["completed"] + counts["declined"] + counts["expired"]
    return {
        **counts, "total": total,
        "participants_connected": len(connected),
        "acceptance_rate": round((counts["confirmed"] + counts["completed"]) / answered, 3) if answered else None,
        "median_hours_to_proposal": round(median(waits) / 3600, 2) if waits else None,
        "learn_interests": store.candidates.count_documents({"direction": "learn", "active": True}),
        "share_interests": store.candidates.count_documents({"direction": "share", "active": True}),
    }
