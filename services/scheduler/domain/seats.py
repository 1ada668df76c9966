"""Seats and waitlists: who gets a seat, who waits, in which order, who is promoted, who sees the
meeting link. Plain functions over plain data (no I/O).

The service applies `allocate` to the slot's counter read inside the registration's transaction
and writes the counter back only if it still holds what was read (a compare-and-set), so two
requests can never both take the last seat: the loser's write conflicts and it decides again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.scheduler.domain.errors import NotFound, Refused

CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
ACTIVE = (CONFIRMED, WAITLISTED)


def allocate(seats: int, confirmed: int) -> str:
    """Confirmed while seats last, otherwise the waitlist."""
    return CONFIRMED if confirmed < seats else WAITLISTED


def waitlist_position(waiting_sequences: list[int], mine: int) -> int:
    """1-based place on a first-come waitlist, from the arrival sequence numbers of those waiting."""
    return 1 + sum(1 for seq in waiting_sequences if seq < mine)


def promote(waitlist: list[dict], free_seats: int) -> list[dict]:
    """The first `free_seats` waiting registrations by arrival order (each has a `seq`)."""
    if free_seats <= 0:
        return []
    return sorted(waitlist, key=lambda reg: reg["seq"])[:free_seats]


def find_slot(clinic: dict, slot_id: str) -> dict:
    slot = next((s for s in clinic["slots"] if s["slot_id"] == slot_id), None)
    if slot is None:
        raise Refused(f"no slot {slot_id!r} in this clinic", 422, field="slot")
    return slot


def check_open(clinic: dict, slot: dict, now: datetime) -> None:
    """Registration closes when the slot starts; cancelled or completed clinics take nobody."""
    if clinic["status"] == "cancelled":
        raise Refused("this clinic was cancelled", 409)
    if clinic["status"] == "completed":
        raise Refused("this clinic has already taken place", 409)
    if now >= slot["start"]:
        raise Refused("registration closed when this slot started", 409)


def check_interpretation(clinic: dict, interpretation: str | None) -> None:
    if interpretation and interpretation != clinic["language"] and interpretation not in clinic["interpretation"]:
        offered = ", ".join(clinic["interpretation"]) or "none"
        raise Refused(f"interpretation into {interpretation!r} is not offered (offered: {offered})", 422,
                      field="interpretation")


def check_not_registered(existing: dict | None) -> None:
    """One active registration per person and clinic (either slot); a cancelled one can be renewed."""
    if existing and existing["status"] in ACTIVE:
        raise Refused(f"already {existing['status']} for this clinic", 409)


def check_can_give_back(clinic: dict, registration: dict | None) -> None:
    if registration is None or registration["status"] not in ACTIVE:
        raise NotFound("no active registration for this person")
    if clinic["status"] == "completed":
        raise Refused("this clinic has already taken place", 409)


@dataclass(frozen=True)
class Cancellation:
    was: str
    promoted: dict | None


def after_cancellation(status: str, waitlist: list[dict], slot_started: bool = False) -> Cancellation:
    """A confirmed seat freed before the slot starts goes to the first on the waitlist at once; a
    waitlisted one frees nothing; once the slot has started nobody is promoted into it."""
    if status == CONFIRMED and not slot_started:
        chosen = promote(waitlist, 1)
        return Cancellation(status, chosen[0] if chosen else None)
    return Cancellation(status, None)


def sees_meeting_link(clinic: dict, status: str) -> bool:
    """The meeting link goes only to someone holding a confirmed seat at a clinic still to be held;
    nobody else (waitlisted, cancelled, the public) ever sees it."""
    return status == CONFIRMED and clinic["status"] == "scheduled"
