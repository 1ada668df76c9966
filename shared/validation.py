"""marshmallow validators several services share: language codes, time zones, topics, safe links."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from marshmallow import ValidationError


_LANG_SHAPE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
# The longest language tag any API or event takes (shared.events.fields.Lang uses the same bound).
MAX_LANGUAGE_TAG = 20


_NOT_LANGUAGES = {"und", "mul", "zxx", "mis"}


@lru_cache(maxsize=1)
def _cldr_language_names() -> frozenset[str]:
    return frozenset(Locale("en").languages) - _NOT_LANGUAGES


@lru_cache(maxsize=4096)
def is_language_code(code: str) -> bool:
    """A BCP 47 tag whose language CLDR names (ar, arz, pt-BR, zh-Hant); Babel's data, no network."""
    if (not isinstance(code, str) or len(code) > MAX_LANGUAGE_TAG or not _LANG_SHAPE.match(code)
            or code.split("-")[0] in _NOT_LANGUAGES):
        return False
    if code in _cldr_language_names() or code.split("-")[0] in _cldr_language_names():
        return True
    try:
        Locale.parse(code, sep="-")
    except (UnknownLocaleError, ValueError):
        return False
    return True


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def is_time_zone(name: str) -> bool:
    return isinstance(name, str) and name in _zones()


def language_code(value: str) -> None:
    if not is_language_code(value):
        raise ValidationError(f"unknown language code {value!r} (use a code such as ar, en, fr, pt-BR)")


def time_zone(value: str) -> None:
    if not is_time_zone(value):
        raise ValidationError(f"unknown time zone {value!r} (use an IANA name such as Africa/Cairo)")


def safe_url(value: str) -> None:
    """Only http(s) links with a host: no javascript:, data:, file: or bare paths."""
    parts = urlsplit(value.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValidationError("must be an http:// or https:// link")
    if any(ch in value for ch in "\r\n\t<>\"") or " " in value.strip():
        raise ValidationError("link contains characters that are not allowed")


def no_control_characters(value: str) -> None:
    """Text from people: any script, emoji welcome; control characters (other than newlines) not."""
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in "\n\t":
            raise ValidationError("contains control characters")
        if category == "Cs":
            raise ValidationError("not valid Unicode text (an unpaired surrogate)")


def single_line(value: str) -> None:
    """For names and subjects that end up in mail headers: no CR/LF (header injection)."""
    if "\r" in value or "\n" in value:
        raise ValidationError("must be a single line")
    no_control_characters(value)
