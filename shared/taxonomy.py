"""The base topic taxonomy (from the program's topic table and the pilot's most wanted skills).

Codes are stable forever. The registry may add topics at run time (staff); other services know
the base taxonomy from here and any added topic from the events that carry it.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

DEFAULT_LANGUAGE = "en"


@lru_cache(maxsize=1)
def base_taxonomy() -> dict:
    return json.loads(resources.files("shared.data").joinpath("taxonomy.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def base_topics() -> dict[str, dict]:
    """Topic code -> topic (with its category code)."""
    return {topic["code"]: {**topic, "category": category["code"]}
            for category in base_taxonomy()["categories"] for topic in category["topics"]}


def is_base_topic(code: str) -> bool:
    return code in base_topics()


def label(labels: dict[str, str], language: str | None) -> str:
    """The label in `language`, else its base language (pt-BR -> pt), else English."""
    if language:
        for candidate in (language, language.split("-")[0]):
            if candidate in labels:
                return labels[candidate]
    return labels[DEFAULT_LANGUAGE]


def topic_label(code: str, language: str | None = None) -> str:
    topic = base_topics().get(code)
    return label(topic["labels"], language) if topic else code
