"""Seat allocation and waitlist promotion: plain functions over plain data (no I/O).

The store applies the same rules atomically: a per-slot counter of confirmed seats is raised
only while it is below the seat count (a conditional update inside the transaction), so two
requests can never both take the last seat.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CONFIRMED = "confirmed"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"
ACTIVE = (CONFIRMED, WAITLISTED)


class RegistrationRefused(Exception):
    """A registration the rules do not allow; `code` is the HTTP status that explains it."""

    def __init__(self, message: str, code: int = 409):
        super().__init__(message)
        self.message = message
        self.code = code


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


def check_open(clinic: dict, slot: dict, now: datetime) -> None:
    """Registration closes when the slot starts; cancelled or completed clinics take nobody."""
    if clinic["status"] == "cancelled":
        raise RegistrationRefused("this clinic was cancelled", 409)
    if clinic["status"] == "completed":
        raise RegistrationRefused("this clinic has already taken place", 409)
    if now >= slot["start"]:
        raise RegistrationRefused("registration closed when this slot started", 409)


def check_interpretation(clinic: dict, interpretation: str | None) -> None:
    if interpretation and interpretation != clinic["language"] and interpretation not in clinic["interpretation"]:
        offered = ", ".join(clinic["interpretation"]) or "none"
        raise RegistrationRefused(
            f"interpretation into {interpretation!r} is not offered (offered: {offered})", 422)


@dataclass(frozen=True)
class Cancellation:
    was: str
    promoted: dict | None


def after_cancellation(status: str, waitlist: list[dict]) -> Cancellation:
    """A confirmed seat freed goes to the first on the waitlist at once; a waitlisted one frees nothing."""
    if status == CONFIRMED:
        chosen = promote(waitlist, 1)
        return Cancellation(status, chosen[0] if chosen else None)
    return Cancellation(status, None)
