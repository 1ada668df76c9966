"""GET /stats: the resource space by kind, language and topic, and how much is translated."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

FIELDS = ("kind", "language", "topics", "translations")


def space_figures(resources: Iterable[dict], open_requests: int) -> dict:
    kinds, languages, topics = Counter(), Counter(), Counter()
    total = translated = 0
    for doc in resources:
        total += 1
        kinds[doc["kind"]] += 1
        languages[doc["language"]] += 1
        topics.update(doc["topics"])
        translated += bool(doc.get("translations"))
    return {"resources": total, "by_kind": dict(kinds), "by_language": dict(languages),
            "by_topic": dict(topics.most_common()), "translated_share": round(translated / total, 3) if total else 0.0,
            "translation_requests_open": open_requests}
