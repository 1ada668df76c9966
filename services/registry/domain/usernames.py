"""Meta-Wiki usernames compared the way MediaWiki compares them."""
from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s_]+")


def canonical_username(raw: str) -> str:
    """NFC, underscores as spaces, runs of spaces collapsed, first letter upper-cased (as MediaWiki)."""
    name = _SPACES.sub(" ", unicodedata.normalize("NFC", raw)).strip()
    if not name:
        return name
    return name[0].upper() + name[1:]
