"""When a person's resource digest is due (pure)."""
from __future__ import annotations

from datetime import datetime, timedelta


def digest_due(now: datetime, last_sent_at: datetime | None, oldest_item_at: datetime | None,
               period_seconds: float) -> bool:
    """Due once something is waiting and a full period has passed since the last digest
    (or, for a first digest, since the oldest waiting item arrived)."""
    if oldest_item_at is None:
        return False
    since = last_sent_at or oldest_item_at
    return now - since >= timedelta(seconds=period_seconds)
