"""The taxonomy as served: the shared base topics plus topics staff added (codes never change)."""
from __future__ import annotations

from shared.taxonomy import base_taxonomy, base_topics, label

from services.registry.domain.errors import TopicExists, UnknownCategory, UnknownTopics

# Languages the base taxonomy has labels in (GET /taxonomy answers in one of them, else English).
LABEL_LANGUAGES = ("en", "ar", "fr", "es")


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
    offered = set(LABEL_LANGUAGES)
    for code, _quality in accept_language:
        base = code.split("-")[0].lower()
        if code in offered or base in offered:
            return code if code in offered else base
    return None


def category_codes() -> set[str]:
    return {category["code"] for category in base_taxonomy()["categories"]}


def check_new_topic(topic: dict, added_topics: list[dict]) -> None:
    """A topic staff may add: in an existing category, with a code never used (codes never change)."""
    categories = category_codes()
    if topic["category"] not in categories:
        raise UnknownCategory(categories)
    if topic["code"] in known_topic_codes(added_topics):
        raise TopicExists(topic["code"])


def unknown_topic_errors(interests: list[dict], known: set[str]) -> dict:
    """{index: {"topic": [message]}} for each interest whose code is not known; empty when all are."""
    return {index: {"topic": [f"unknown topic code {interest['topic']!r} (see GET /taxonomy)"]}
            for index, interest in enumerate(interests) if interest["topic"] not in known}


def require_known_topics(interests: list[dict], known: set[str]) -> None:
    errors = unknown_topic_errors(interests, known)
    if errors:
        raise UnknownTopics({"interests": errors})
