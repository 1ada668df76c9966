"""The browse pages' filters: what a person picked in a form (query string) -> what the API takes.

Anything that is not a value the API accepts is dropped rather than sent (a stale bookmark or a
hand-edited link shows the unfiltered list, not an error).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Mapping

from shared.validation import is_language_code

from services.portal.domain.choices import CLINIC_KINDS, DIRECTIONS, GROUP_TYPES, REGIONS, RESOURCE_KINDS

_TOPIC = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
_CURSOR = re.compile(r"^[A-Za-z0-9_\-=]{1,500}$")
MAX_SEARCH = 200


def _one_of(value: str | None, allowed) -> str | None:
    return value if value in allowed else None


def _topic(value: str | None) -> str | None:
    return value if value and _TOPIC.match(value) else None


def _language(value: str | None) -> str | None:
    return value if value and is_language_code(value) else None


def _cursor(value: str | None) -> str | None:
    return value if value and _CURSOR.match(value) else None


def _get(args: Mapping[str, str], name: str) -> str | None:
    value = args.get(name)
    return value.strip() if isinstance(value, str) and value.strip() else None


class _CursorPaged:
    """Filters of a list the API pages with a cursor (directory, resources): every field is sent as is."""

    def api_params(self, limit: int) -> dict:
        return {**{k: v for k, v in asdict(self).items() if v}, "limit": limit}

    def query(self, **changes) -> dict:
        """The page's own query string (for pagination links), without empty values."""
        return {k: v for k, v in {**asdict(self), **changes}.items() if v}

    @property
    def active(self) -> bool:
        return any(v for k, v in asdict(self).items() if k != "cursor")


@dataclass(frozen=True)
class DirectoryFilters(_CursorPaged):
    topic: str | None = None
    direction: str | None = None
    language: str | None = None
    region: str | None = None
    group_type: str | None = None
    cursor: str | None = None

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> "DirectoryFilters":
        return cls(topic=_topic(_get(args, "topic")), direction=_one_of(_get(args, "direction"), DIRECTIONS),
                   language=_language(_get(args, "language")), region=_one_of(_get(args, "region"), REGIONS),
                   group_type=_one_of(_get(args, "group_type"), GROUP_TYPES), cursor=_cursor(_get(args, "cursor")))


@dataclass(frozen=True)
class ClinicFilters:
    topic: str | None = None
    language: str | None = None
    kind: str | None = None
    page: int = 1

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> "ClinicFilters":
        page = _get(args, "page")
        return cls(topic=_topic(_get(args, "topic")), language=_language(_get(args, "language")),
                   kind=_one_of(_get(args, "kind"), CLINIC_KINDS),
                   page=int(page) if page and page.isdigit() and 0 < int(page) < 10_000 else 1)

    def api_params(self) -> dict:
        return {k: v for k, v in (("topic", self.topic), ("language", self.language), ("kind", self.kind)) if v}

    def query(self, **changes) -> dict:
        values = {**asdict(self), **changes}
        return {k: v for k, v in values.items() if v and not (k == "page" and v == 1)}

    @property
    def active(self) -> bool:
        return bool(self.api_params())


@dataclass(frozen=True)
class ResourceFilters(_CursorPaged):
    q: str | None = None
    topic: str | None = None
    language: str | None = None
    kind: str | None = None
    cursor: str | None = None

    @classmethod
    def from_query(cls, args: Mapping[str, str]) -> "ResourceFilters":
        text = _get(args, "q")
        return cls(q=text[:MAX_SEARCH] if text else None, topic=_topic(_get(args, "topic")),
                   language=_language(_get(args, "language")), kind=_one_of(_get(args, "kind"), RESOURCE_KINDS),
                   cursor=_cursor(_get(args, "cursor")))


def page_of(items: list, page: int, size: int) -> tuple[list, bool]:
    """One page of a list the API returns whole (clinics): the items and whether more follow."""
    start = (page - 1) * size
    return items[start:start + size], len(items) > start + size
