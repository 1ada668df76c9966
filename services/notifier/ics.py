"""Calendar attachments for clinic mail, built from the event's own data (no call to the scheduler)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from icalendar import Calendar, Event

PRODID = "-//Wikimedia Let's Connect//notifier//EN"
STATUSES = {"confirmed": "CONFIRMED", "waitlisted": "TENTATIVE", "cancelled": "CANCELLED"}


def as_utc(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def slot_uid(clinic_id: str, slot_id: str) -> str:
    """Stable per slot, so a change or a cancellation updates the entry people already have."""
    return f"clinic-{clinic_id}-slot-{slot_id}@letsconnect"


def clinic_calendar(*, clinic_id: str, title: str, slots: list[dict], stamp, method: str = "PUBLISH",
                    status: str = "confirmed", description: str = "", meeting_url: str | None = None,
                    sequence: int = 0) -> bytes:
    """One VEVENT per slot ({slot_id, start, minutes}); `stamp` is the event's time (DTSTAMP)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    stamped = as_utc(stamp)
    for slot in slots:
        start = as_utc(slot["start"])
        event = Event()
        event.add("uid", slot_uid(clinic_id, slot["slot_id"]))
        event.add("dtstamp", stamped)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(minutes=int(slot["minutes"])))
        event.add("summary", title)
        if description:
            event.add("description", description)
        if meeting_url:
            event.add("location", meeting_url)
            event.add("url", meeting_url)
        event.add("status", STATUSES.get(status, "CONFIRMED"))
        event.add("sequence", sequence)
        event.add("transp", "TRANSPARENT" if status == "cancelled" else "OPAQUE")
        calendar.add_component(event)
    return calendar.to_ical()


def sequence_from(stamp) -> int:
    """A SEQUENCE that grows with each later change (calendar clients keep the highest)."""
    return max(0, int(as_utc(stamp).timestamp()) - 1_700_000_000)
