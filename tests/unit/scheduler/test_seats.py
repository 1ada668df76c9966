"""Seat allocation and waitlist promotion rules."""
from datetime import datetime, timedelta, timezone

import pytest

from services.scheduler.domain.errors import Refused as RegistrationRefused
from services.scheduler.domain.seats import (
    after_cancellation, allocate, check_interpretation, check_open, promote, waitlist_position,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def test_confirmed_while_seats_last_then_the_waitlist():
    assert [allocate(3, taken) for taken in range(5)] == ["confirmed"] * 3 + ["waitlisted"] * 2
    assert allocate(1, 0) == "confirmed" and allocate(1, 1) == "waitlisted"


def test_waitlist_position_is_first_come():
    waiting = [4, 7, 9]
    assert waitlist_position(waiting, 4) == 1
    assert waitlist_position(waiting, 9) == 3
    assert waitlist_position([w for w in waiting if w != 4], 9) == 2  # someone ahead left


def test_promotion_takes_the_earliest_arrivals():
    waitlist = [{"id": "c", "seq": 12}, {"id": "a", "seq": 5}, {"id": "b", "seq": 8}]
    assert [r["id"] for r in promote(waitlist, 2)] == ["a", "b"]
    assert promote(waitlist, 0) == [] and promote([], 3) == []


def test_a_freed_confirmed_seat_goes_to_the_first_waiting_and_a_waitlisted_one_frees_nothing():
    waitlist = [{"id": "b", "seq": 8}, {"id": "a", "seq": 5}]
    assert after_cancellation("confirmed", waitlist).promoted["id"] == "a"
    assert after_cancellation("waitlisted", waitlist).promoted is None
    assert after_cancellation("confirmed", []).promoted is None


def test_registration_closes_at_the_start_and_for_cancelled_or_held_clinics():
    slot = {"start": NOW + timedelta(minutes=1)}
    check_open({"status": "scheduled"}, slot, NOW)
    with pytest.raises(RegistrationRefused, match="closed"):
        check_open({"status": "scheduled"}, slot, slot["start"])
    with pytest.raises(RegistrationRefused, match="cancelled"):
        check_open({"status": "cancelled"}, slot, NOW)
    with pytest.raises(RegistrationRefused, match="already taken place"):
        check_open({"status": "completed"}, slot, NOW)


def test_only_offered_interpretation_languages():
    clinic = {"language": "en", "interpretation": ["ar", "fr"]}
    check_interpretation(clinic, "ar")
    check_interpretation(clinic, None)
    check_interpretation(clinic, "en")
    with pytest.raises(RegistrationRefused) as refused:
        check_interpretation(clinic, "es")
    assert refused.value.code == 422
