"""Abuse limits on anonymous POSTs, with limits on: per client address and per email address,
429 with Retry-After, shared by every API process through MongoDB, X-Forwarded-For believed
only from a trusted proxy, nothing personal kept in the counters."""
from __future__ import annotations

import pytest

from shared.mongo import database
from services.registry.app import create_app
from tests.support import namespaced_settings
from tests.integration.registry.test_registry_api import body


@pytest.fixture(scope="module")
def limited(servers):
    return namespaced_settings(servers, rate_limit_per_address="3/hour", rate_limit_per_email="2/hour",
                               trusted_proxies=("10.0.0.0/8",))


def from_address(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def register(client, n, email=None, **headers):
    return client.post("/participants", json=body(f"Limited person {n}", email=email or f"limited{n}@example.org"),
                       headers=headers)


def test_registrations_from_one_address_are_limited_across_api_processes(limited):
    first, second = create_app(limited), create_app(limited)  # two gunicorn workers, one MongoDB
    a, b = from_address(first, "203.0.113.7"), from_address(second, "203.0.113.7")
    assert [register(a, 1).status_code, register(b, 2).status_code, register(a, 3).status_code] == [201] * 3
    refused = register(b, 4)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert "address" in refused.get_json()["message"]
    assert register(from_address(first, "203.0.113.8"), 5).status_code == 201  # another address is not held up


def test_registrations_for_one_email_are_limited_whatever_the_address(limited):
    app = create_app(limited)
    assert register(from_address(app, "198.51.100.1"), 10, email="Same@example.org").status_code == 201
    assert register(from_address(app, "198.51.100.2"), 11, email="same@example.org").status_code == 201
    refused = register(from_address(app, "198.51.100.3"), 12, email="SAME@example.org")
    assert refused.status_code == 429 and "email" in refused.get_json()["message"]


def test_sign_in_requests_are_limited_the_same_way_and_say_nothing_about_registration(limited):
    app = create_app(limited)
    here, there = from_address(app, "192.0.2.50"), from_address(app, "192.0.2.51")
    for _ in range(2):
        assert here.post("/sign-in", json={"email": "known-or-not@example.org"}).status_code == 202
    per_email = there.post("/sign-in", json={"email": "known-or-not@example.org"})
    assert per_email.status_code == 429 and "email" in per_email.get_json()["message"]
    assert here.post("/sign-in", json={"email": "third@example.org"}).status_code == 202
    per_address = here.post("/sign-in", json={"email": "fourth@example.org"})
    assert per_address.status_code == 429 and "address" in per_address.get_json()["message"]


def test_forwarded_for_counts_only_from_a_trusted_proxy(limited):
    app = create_app(limited)
    stranger = from_address(app, "203.0.113.66")
    statuses = [stranger.post("/sign-in", json={"email": f"x{i}@example.org"},
                              headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(4)]
    assert statuses == [202, 202, 202, 429]  # its own address, whatever it claims
    proxy = from_address(app, "10.1.2.3")
    for visitor in ("198.51.100.21", "198.51.100.22"):
        statuses = [proxy.post("/sign-in", json={"email": f"{visitor}-{i}@example.org"},
                               headers={"X-Forwarded-For": f"1.2.3.4, {visitor}"}).status_code for i in range(4)]
        assert statuses == [202, 202, 202, 429]  # each visitor behind the proxy counted on their own


def test_the_counters_keep_no_address_and_no_email(limited):
    db = database(limited, "registry")
    stored = repr(list(db.rate_limit_windows.find())) + repr(list(db.rate_limit_counters.find()))
    assert db.rate_limit_windows.count_documents({}) > 0
    for personal in ("203.0.113.7", "limited1@example.org", "same@example.org", "198.51.100.21"):
        assert personal not in stored


def test_limits_are_off_unless_set(servers):
    client = from_address(create_app(namespaced_settings(servers)), "203.0.113.99")
    assert all(client.post("/sign-in", json={"email": "many@example.org"}).status_code == 202 for _ in range(12))
