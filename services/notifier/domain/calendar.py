"""Calendar attachments for clinic mail, built from the event's own data (no call to the scheduler)."""
from __future__ import annotations

from shared.calendars import STATUSES, finish, new_calendar, slot_uid, timed_event
from shared.clock import as_utc


def clinic_calendar(*, clinic_id: str, title: str, slots: list[dict], stamp, method: str = "PUBLISH",
                    status: str = "confirmed", description: str = "", meeting_url: str | None = None,
                    sequence: int = 0) -> bytes:
    """One VEVENT per slot ({slot_id, start, minutes}); `stamp` is the event's time (DTSTAMP)."""
    events = []
    for slot in slots:
        event = timed_event(slot_uid(clinic_id, slot["slot_id"]), title=title, start=slot["start"],
                            minutes=slot["minutes"], stamp=stamp)
        if description:
            event.add("description", description)
        if meeting_url:
            event.add("location", meeting_url)
            event.add("url", meeting_url)
        event.add("status", STATUSES.get(status, "CONFIRMED"))
        event.add("sequence", sequence)
        event.add("transp", "TRANSPARENT" if status == "cancelled" else "OPAQUE")
        events.append(event)
    return finish(new_calendar("notifier", method), events)


def sequence_from(stamp) -> int:
    """A SEQUENCE that grows with each later change (calendar clients keep the highest)."""
    return max(0, int(as_utc(stamp).timestamp()) - 1_700_000_000)
