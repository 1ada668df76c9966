"""Language names, writing direction and the choice of a message's language (CLDR data via Babel)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from babel import Locale, UnknownLocaleError

FALLBACK = "en"
# The program's interpretation languages: the portal's interface and every message template exist in these.
INTERFACE_LANGUAGES = ("en", "ar", "es", "fr", "pt")


@lru_cache(maxsize=4096)
def language_name(code: str, reader: str = FALLBACK) -> str:
    """`code`'s name in the `reader`'s language (ar read by fr: "arabe"), else the code itself."""
    try:
        return Locale.parse(code, sep="-").get_display_name(Locale.parse(reader, sep="-")) or code
    except (UnknownLocaleError, ValueError, TypeError, LookupError):
        return code


@lru_cache(maxsize=512)
def text_direction(language: str) -> str:
    """'rtl' for Arabic, Persian, Hebrew, Urdu ... (from CLDR), else 'ltr'."""
    try:
        return Locale.parse(language, sep="-").text_direction
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"


@dataclass(frozen=True)
class LanguageChoice:
    language: str            # the language chosen
    first: str               # the person's first language
    missing: str | None      # a language to ask translators for (the person's first), if any

    @property
    def in_first_language(self) -> bool:
        return self.language == self.first


def _candidates(code: str) -> list[str]:
    base = code.split("-")[0]
    return [code] if base == code else [code, base]


def choose_language(languages: Iterable[str], available: Iterable[str]) -> LanguageChoice:
    """The first of a person's `languages` that is `available`, else the next, else English.

    When the person's first language is not available it is reported as `missing` (whether the
    choice is then a later language of theirs or English): the program wants people told things
    in the language they read best, so the gap goes to translators. A regional variant falls back
    to its base language (pt-BR -> pt).
    """
    wanted = [code for code in languages if code] or [FALLBACK]
    have = set(available)
    first = wanted[0]
    chosen = None
    for code in wanted:
        chosen = next((c for c in _candidates(code) if c in have), None)
        if chosen:
            break
    if chosen is None:
        chosen = FALLBACK
    first_has_it = any(c in have for c in _candidates(first))
    return LanguageChoice(language=chosen, first=first, missing=None if first_has_it else first)
