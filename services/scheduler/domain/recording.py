"""Recording consent, per person: a recording is published only when every attendee consented
(their own consent.recording from the registry), or when staff confirm that those who did not were
not recorded. Plain functions.

A clinic's `recording`: {url, status, basis, unconsented, not_recorded, confirmed_by, confirmed_at}
  none         no recording was made
  publishable  every attendee consented (basis every_attendee_consented)
  pending      someone did not consent (or their consent is unknown): waits for staff
  cleared      staff confirmed those were not recorded (basis staff_confirmed_unconsented_not_recorded)
"""
from __future__ import annotations

from datetime import datetime

from services.scheduler.domain.errors import Invalid, Refused

EVERYONE = "every_attendee_consented"
STAFF_CONFIRMED = "staff_confirmed_unconsented_not_recorded"


def decision(url: str | None, attendees: list[str], consents: dict[str, bool]) -> dict:
    """At completion: `consents` holds the attendees' own consent.recording; an attendee the
    scheduler knows nothing about counts as not having consented."""
    if not url:
        return {"url": None, "status": "none", "basis": None, "unconsented": []}
    unconsented = [pid for pid in attendees if consents.get(pid) is not True]
    if unconsented:
        return {"url": url, "status": "pending", "basis": None, "unconsented": unconsented}
    return {"url": url, "status": "publishable", "basis": EVERYONE, "unconsented": []}


def publishable_now(recording: dict) -> bool:
    return recording["status"] == "publishable"


def confirm(recording: dict | None, not_recorded: list[str], staff: str, now: datetime) -> dict:
    """Staff confirm who was not recorded; every attendee without consent must be among them."""
    if not recording or recording["status"] != "pending":
        state = (recording or {}).get("status", "none")
        raise Refused(f"there is no recording waiting for confirmation (recording: {state})", 409)
    missing = [pid for pid in recording["unconsented"] if pid not in not_recorded]
    if missing:
        raise Invalid("not_recorded", [f"{pid} did not consent to recording; confirm they were not recorded"
                                       for pid in missing[:20]], "every attendee without consent must be confirmed")
    return {**recording, "status": "cleared", "basis": STAFF_CONFIRMED,
            "not_recorded": list(dict.fromkeys(not_recorded)), "confirmed_by": staff, "confirmed_at": now}
