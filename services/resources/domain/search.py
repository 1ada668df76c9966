"""Search tokens for any script (pure): what a title or query is reduced to before matching."""
from __future__ import annotations

import re
import unicodedata

_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")  # harakat, tatweel
_ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_WORD = re.compile(r"\w+", re.UNICODE)


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def tokens(text: str) -> list[str]:
    """Case-folded words without accents or Arabic diacritics; Arabic letter variants unified."""
    text = _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", text or "")).translate(_ARABIC_LETTERS)
    words = _WORD.findall(_strip_marks(text).casefold())
    return sorted({w for w in words if len(w) > 1 or not w.isascii()})


def query_tokens(query: str) -> list[str]:
    return tokens(query)
