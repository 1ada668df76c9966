"""GET /stats: the resource space by kind, language and topic, and how much is translated."""
from __future__ import annotations

from collections import Counter

from services.resources.store import Store


def resources_stats(store: Store) -> dict:
    kinds, languages, topics = Counter(), Counter(), Counter()
    total = translated = 0
    for doc in store.resources.find({}, {"kind": 1, "language": 1, "topics": 1, "translations": 1}):
        total += 1
        kinds[doc["kind"]] += 1
        languages[doc["language"]] += 1
        topics.update(doc["topics"])
        translated += bool(doc.get("translations"))
    return {"resources": total, "by_kind": dict(kinds), "by_language": dict(languages),
            "by_topic": dict(topics.most_common()), "translated_share": round(translated / total, 3) if total else 0.0,
            "translation_requests_open": store.requests.count_documents({"status": "open"})}
