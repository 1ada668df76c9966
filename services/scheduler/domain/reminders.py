"""Which reminder is due when (plain functions)."""
from __future__ import annotations

from datetime import datetime, timedelta

LEADS = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}
HORIZON = LEADS["24h"]  # no reminder is due for a slot further ahead than this


def due_lead(start: datetime, now: datetime) -> str | None:
    """The reminder due now for a slot starting at `start`: 1h inside the last hour, else 24h inside
    the last day. A 24h reminder that was missed (worker down) is not sent inside the last hour."""
    if now >= start:
        return None
    left = start - now
    if left <= LEADS["1h"]:
        return "1h"
    if left <= LEADS["24h"]:
        return "24h"
    return None


def claim_key(slot_id: str, who: str, lead: str) -> str:
    """One reminder per slot, person and lead, ever: the claim's key."""
    return f"{slot_id}|{who}|{lead}"
