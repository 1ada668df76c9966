"""Translations of a resource, and which languages translators are asked for."""
from __future__ import annotations


def with_translation(resource: dict, translation: dict, now: str) -> list[dict]:
    """The resource's translations with `translation` in place of any earlier one in its language."""
    kept = [t for t in resource["translations"] if t["language"] != translation["language"]]
    return [*kept, {**translation, "added_at": now}]


def request_id(resource_id: str, language: str) -> str:
    """Stable, so asking twice for one language makes nothing new."""
    return f"{resource_id}:{language}"


def languages_to_request(resource: dict, languages: list[str], already_requested: set[str]) -> list[str]:
    """Each asked language (first mention, in order) that is neither the original's, translated,
    nor already requested."""
    have = {resource["language"]} | {t["language"] for t in resource["translations"]}
    return [language for language in dict.fromkeys(languages)
            if language not in have and language not in already_requested]


def translation_request(resource: dict, language: str, now: str) -> tuple[dict, dict]:
    """(the stored request, translation-requested data)."""
    rid = request_id(resource["_id"], language)
    request = {"_id": rid, "resource_id": resource["_id"], "language": language, "status": "open", "requested_at": now}
    event = {"request_id": rid, "subject_kind": "resource", "subject_id": resource["_id"], "language": language,
             "source_language": resource["language"], "title": resource["title"], "url": resource["url"],
             "requested_by": "resources"}
    return request, event
