"""The taxonomy as served: the shared base topics plus topics staff added (codes never change)."""
from __future__ import annotations

from shared.taxonomy import base_taxonomy, base_topics, label


def merged_categories(added_topics: list[dict]) -> list[dict]:
    categories = [{**c, "topics": list(c["topics"])} for c in base_taxonomy()["categories"]]
    by_code = {c["code"]: c for c in categories}
    for topic in added_topics:
        by_code[topic["category"]]["topics"].append(topic)
    return categories


def localised(categories: list[dict], language: str | None) -> dict:
    """GET /taxonomy: labels in `language`, falling back to English."""
    return {"language": language or "en", "categories": [
        {"code": c["code"], "label": label(c["labels"], language), "topics": [
            {"code": t["code"], "label": label(t["labels"], language), "hot": bool(t.get("hot")),
             "wikidata": t.get("wikidata")} for t in c["topics"]]}
        for c in categories]}


def known_topic_codes(added_topics: list[dict]) -> set[str]:
    return set(base_topics()) | {t["code"] for t in added_topics}


def preferred_language(query_lang: str | None, accept_language) -> str | None:
    """?lang= wins; else the best Accept-Language match among the languages with labels."""
    if query_lang:
        return query_lang
    offered = {"en", "ar", "fr", "es"}
    for code, _quality in accept_language:
        base = code.split("-")[0].lower()
        if code in offered or base in offered:
            return code if code in offered else base
    return None
