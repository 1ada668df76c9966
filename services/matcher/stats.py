"""GET /stats: proposals and their fate, people connected, acceptance, time to proposal."""
from __future__ import annotations

from statistics import median

from services.matcher.store import Store

STATUSES = ("proposed", "confirmed", "declined", "expired", "completed", "withdrawn")


def stats(store: Store) -> dict:
    counts = {status: store.count_matches(status) for status in STATUSES}
    connected = set()
    waits = []
    self_made = joined = 0
    for match in store.match_summaries():
        if match["status"] in ("confirmed", "completed"):
            connected.update(m["id"] for m in match["participants"])
            self_made += match.get("origin") == "self_made"
        joined += sum(m.get("joined_at") is not None for m in match["participants"])
        waits.extend(match.get("waited_seconds", []))
    answered = counts["confirmed"] + counts["completed"] + counts["declined"] + counts["expired"]
    return {
        **counts, "total": sum(counts.values()),
        "participants_connected": len(connected),
        "self_made": self_made,  # connections people made themselves, confirmed (counted in the totals too)
        "joined": joined,  # learners who joined an open connection rather than opening one
        "acceptance_rate": round((counts["confirmed"] + counts["completed"]) / answered, 3) if answered else None,
        "median_hours_to_proposal": round(median(waits) / 3600, 2) if waits else None,
        "learn_interests": store.count_interests("learn"),
        "share_interests": store.count_interests("share"),
    }
