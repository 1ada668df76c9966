"""Translation requests (pure): what is listed for staff, and how a request moves from open to done."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("open", "done")
KEPT_FIELDS = ("kind", "subject_kind", "subject_id", "language", "source_language", "title", "url", "requested_by",
               "start", "minutes")


def request_record(data: dict, event_id: str, translators: int, now: datetime) -> dict:
    """A translation-requested event as the open request staff see (stored once per request id)."""
    return {**{k: data.get(k) for k in KEPT_FIELDS}, "kind": data.get("kind") or "translation", "status": "open", "created_at": now, "event_id": event_id,
            "translators": translators}


class Refused(Exception):
    """A change the request's state does not allow (409)."""


@dataclass(frozen=True)
class Transition:
    """found: whether the request exists; changes: what to write (None: nothing changes)."""

    found: bool
    changes: dict | None = None
    refused: str | None = None  # why the change cannot be made (409)


def close(request: dict | None, now: datetime) -> Transition:
    """Closing a request: an open one becomes done; a done one stays as it is (closing twice
    changes nothing); an unknown one is not found."""
    if request is None:
        return Transition(found=False)
    if request.get("status") == "done":
        return Transition(found=True)
    return Transition(found=True, changes={"status": "done", "done_at": now})


def assign(request: dict | None, staff_id: str, now: datetime) -> Transition:
    """A translator (or coordinator) takes an open request: it is theirs (`assigned_to`), even if
    someone else had taken it (the audit keeps who had it). Taking one's own again changes nothing;
    a done request is not taken (refused)."""
    if request is None:
        return Transition(found=False)
    if request.get("status") == "done":
        return Transition(found=True, refused="this translation request is done already")
    if request.get("assigned_to") == staff_id:
        return Transition(found=True)
    return Transition(found=True, changes={"assigned_to": staff_id, "assigned_at": now})
