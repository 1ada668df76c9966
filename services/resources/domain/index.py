"""The in-process search read model of the API (pure: its loader is given to it).

SecantusDB refuses text indexes, answers `$all` with a collection scan and sorts without using
an index, so a search over 20,000 resources costs half a second in the database. Each API
process therefore keeps the searchable fields of every resource in memory (an inverted index
token -> ids, plus topics, language, kind, clinic and the publication order) and asks the
database only for the page it returns (`_id: {$in: [...]}`, served by the _id index).

Before each search the index reads the resources whose `updated_at` (indexed) is at or after
the start of its previous refresh minus `OVERLAP`: a transaction commits within that time of
the timestamp it wrote, so one that committed after the previous refresh is not missed, while
a bulk load long past is not read again. Deleted resources are dropped when the page fetch does not find them
(and at once in the process that deleted them).
"""
from __future__ import annotations

import heapq
import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

from shared.clock import iso

OVERLAP = timedelta(seconds=5)
# The fields of a resource the index keeps (the loader reads only these).
FIELDS = ("tokens", "topics", "language", "kind", "clinic_id", "published_at", "updated_at", "hidden")


class SearchIndex:
    def __init__(self) -> None:
        self._entries: dict[str, tuple] = {}  # id -> (order key, tokens, topics, language, kind, clinic)
        self._postings: dict[str, set[str]] = {}
        self._lock = threading.RLock()
        self.watermark: str | None = None  # the newest updated_at seen (informative)
        self.refreshed_at: datetime | None = None

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, doc: dict) -> None:
        with self._lock:
            self.forget(doc["_id"])
            if doc.get("hidden"):  # hidden by staff: in no public list until restored
                if doc.get("updated_at") and (self.watermark is None or doc["updated_at"] > self.watermark):
                    self.watermark = doc["updated_at"]
                return
            tokens = frozenset(doc.get("tokens") or ())
            self._entries[doc["_id"]] = ((doc["published_at"], doc["_id"]), tokens, frozenset(doc.get("topics") or ()),
                                         doc.get("language"), doc.get("kind"), doc.get("clinic_id"))
            for token in tokens:
                self._postings.setdefault(token, set()).add(doc["_id"])
            if doc.get("updated_at") and (self.watermark is None or doc["updated_at"] > self.watermark):
                self.watermark = doc["updated_at"]

    def forget(self, resource_id: str) -> None:
        with self._lock:
            entry = self._entries.pop(resource_id, None)
            if entry is None:
                return
            for token in entry[1]:
                ids = self._postings.get(token)
                if ids is not None:
                    ids.discard(resource_id)
                    if not ids:
                        del self._postings[token]

    def refresh(self, load: Callable[[str | None], Iterable[dict]], now: datetime | None = None) -> None:
        """load(since) returns the documents (FIELDS) whose `updated_at` is at or after `since`
        (an ISO 8601 time), or every document when `since` is None."""
        started = now or datetime.now(timezone.utc)
        with self._lock:
            since = None
            if self.refreshed_at is not None:
                since = iso(self.refreshed_at - OVERLAP, "milliseconds")
            for doc in load(since):
                self.put(doc)
            self.refreshed_at = started

    def search(self, words: list[str], *, topic: str | None = None, language: str | None = None,
               kind: str | None = None, clinic: str | None = None, before: tuple[str, str] | None = None,
               limit: int = 20) -> list[str]:
        """Ids of the newest `limit` resources having every word and matching every filter, newest
        first, strictly older than `before` (published_at, id) when given."""
        with self._lock:
            if words:
                postings = sorted((self._postings.get(w, set()) for w in words), key=len)
                candidates: Iterable[str] = set.intersection(*postings) if postings[0] else ()
            else:
                candidates = self._entries.keys()
            matches = []
            for resource_id in candidates:
                key, _, topics, lang, knd, cln = self._entries[resource_id]
                if ((topic is None or topic in topics) and (language is None or lang == language)
                        and (kind is None or knd == kind) and (clinic is None or cln == clinic)
                        and (before is None or key < before)):
                    matches.append(key)
        return [resource_id for _, resource_id in heapq.nlargest(limit, matches)]
