"""Which language a page speaks, and the languages a person can say they read.

The interface exists in the program's interpretation languages (shared.languages.INTERFACE_LANGUAGES).
A page's language is the one just chosen with the language switch, else the one remembered
from an earlier choice, else the browser's Accept-Language, else English. (Once people can sign
in, their first language comes after the switch and before Accept-Language.)
"""
from __future__ import annotations

from functools import lru_cache
from typing import Iterable

from babel import Locale, localedata

from shared.languages import FALLBACK, INTERFACE_LANGUAGES, language_name, text_direction


def supported(code: str | None) -> str | None:
    """`code` (or its base language: pt-BR -> pt) if the interface exists in it."""
    if not code:
        return None
    code = code.strip().replace("_", "-")
    for candidate in (code, code.split("-")[0].lower()):
        if candidate in INTERFACE_LANGUAGES:
            return candidate
    return None


def interface_language(chosen: str | None, remembered: str | None,
                       accepted: Iterable[tuple[str, float]] = ()) -> str:
    """The page's language: the switch, the remembered choice, Accept-Language (by quality), English."""
    for candidate in (chosen, remembered):
        if supported(candidate):
            return supported(candidate)
    for code, _quality in sorted(accepted, key=lambda pair: -pair[1]):
        if supported(code):
            return supported(code)
    return FALLBACK


def direction(language: str) -> str:
    return text_direction(language)


@lru_cache(maxsize=1)
def interface_choices() -> tuple[tuple[str, str], ...]:
    """(code, the language's own name) for the language switch: English, العربية, español, ..."""
    return tuple((code, Locale.parse(code).get_display_name(code)) for code in INTERFACE_LANGUAGES)


@lru_cache(maxsize=1)
def declarable_languages() -> tuple[str, ...]:
    """Every language with CLDR data (312 today): what a person may say they read or speak."""
    return tuple(sorted(code for code in localedata.locale_identifiers() if "_" not in code and code != "root"))


@lru_cache(maxsize=16)
def language_options(reader: str) -> tuple[tuple[str, str], ...]:
    """(code, name in the reader's language) sorted by that name, for the forms' language lists."""
    named = []
    for code in declarable_languages():
        name = language_name(code, reader)
        if name == code:  # CLDR has no name for it in the reader's language: the English one
            name = language_name(code, FALLBACK)
        if name != code:
            named.append((code, name))
    return tuple(sorted(named, key=lambda pair: pair[1].casefold()))
