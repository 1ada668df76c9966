"""Translations of a resource, proposals of translations, and which languages translators are asked for.

Only the resource's owner (or staff) sets its translations. Anyone else signed in who offers one
adds a proposal beside the owner's links, never in their place; the owner adopts a proposal by
setting it as the translation.
"""
from __future__ import annotations

from services.resources.domain.errors import TooManyProposals

MAX_PROPOSALS = 50  # pending proposals per resource


def adopting(resource: dict, translation: dict) -> list[dict]:
    """The proposals left once the owner sets `translation`: the one it adopts goes."""
    return [p for p in resource.get("proposals", [])
            if not (p["language"] == translation["language"] and p["url"] == translation["url"])]


def with_proposal(resource: dict, translation: dict, proposer: str, now: str) -> list[dict]:
    """The resource's proposals with this one; a person's newer proposal for a language replaces
    their own earlier one (never anyone else's)."""
    kept = [p for p in resource.get("proposals", [])
            if not (p["language"] == translation["language"] and p.get("proposed_by") == proposer)]
    if len(kept) >= MAX_PROPOSALS:
        raise TooManyProposals(f"this resource already has {MAX_PROPOSALS} proposed translations waiting")
    return [*kept, {**translation, "proposed_by": proposer, "proposed_at": now}]


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
