"""Emailed sign-in's rules without a database: who gets a link, when a link opens a session."""
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest

from services.registry.domain.errors import SignInRefused
from services.registry.domain.profiles import email_key
from services.registry.domain.signin import MAX_LINKS_PER_REQUEST, check_exchange, requests_for

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def ids():
    numbers = count(1)
    return lambda: f"req{next(numbers)}"


def test_a_registered_participant_gets_a_pending_request_and_an_event_without_address_or_token():
    [(request, event)] = requests_for("participant", [{"_id": "p1", "languages": ["fr", "en"]}], NOW, 1800, ids())
    assert request == {"_id": "req1", "subject_id": "p1", "audience": "participant", "status": "pending",
                       "requested_at": NOW, "expires_at": NOW + timedelta(minutes=30)}
    assert event == {"request_id": "req1", "audience": "participant", "subject_id": "p1",
                     "expires_at": "2026-11-30T12:30:00Z", "language": "fr"}


def test_an_unknown_address_makes_nothing():
    assert requests_for("participant", [], NOW, 1800, ids()) == []
    assert requests_for("staff", [], NOW, 1800, ids()) == []


def test_a_staff_account_gets_a_staff_request_for_its_own_sign_in_page():
    [(request, event)] = requests_for("staff", [{"_id": "s1", "languages": ["ar"]}], NOW, 1800, ids())
    assert (request["audience"], request["subject_id"]) == ("staff", "s1")
    assert event["audience"] == "staff" and event["language"] == "ar"


def test_an_address_shared_by_several_profiles_gets_one_link_each_up_to_a_limit():
    profiles = [{"_id": f"p{i}", "languages": ["en"]} for i in range(MAX_LINKS_PER_REQUEST + 3)]
    made = requests_for("participant", profiles, NOW, 1800, ids())
    assert [request["subject_id"] for request, _ in made] == [f"p{i}" for i in range(MAX_LINKS_PER_REQUEST)]


def pending(**changes):
    return {"_id": "req1", "subject_id": "p1", "status": "pending", "expires_at": NOW + timedelta(minutes=5),
            **changes}


def test_a_pending_request_for_this_person_before_its_expiry_opens_a_session():
    check_exchange(pending(), "p1", NOW)


@pytest.mark.parametrize("request_, subject, why", [
    (None, "p1", "not valid"), (pending(), "p2", "not valid"), (pending(status="used"), "p1", "already used"),
    (pending(expires_at=NOW), "p1", "expired"), (pending(expires_at=NOW - timedelta(days=1)), "p1", "expired"),
])
def test_a_missing_foreign_used_or_expired_request_opens_nothing(request_, subject, why):
    with pytest.raises(SignInRefused, match=why):
        check_exchange(request_, subject, NOW)


def test_addresses_compare_without_case_or_surrounding_space():
    assert email_key(" Ahmed@Example.ORG ") == email_key("ahmed@example.org")
