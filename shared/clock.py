"""Time as every service writes and reads it: aware UTC datetimes, ISO 8601 strings ending in Z."""
from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | str) -> datetime:
    """An aware UTC datetime from an ISO 8601 string or a datetime (MongoDB hands datetimes back
    without a zone when the client is not tz-aware; those are UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def iso(moment: datetime, timespec: str = "auto") -> str:
    """UTC ISO 8601 with a Z: `2026-12-10T14:00:00Z` (timespec as datetime.isoformat's)."""
    return as_utc(moment).isoformat(timespec=timespec).replace("+00:00", "Z")


def utcnow_iso(timespec: str = "milliseconds") -> str:
    return iso(utcnow(), timespec)
