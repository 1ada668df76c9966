"""The registry's per-address limits count each visitor of the portal, not the portal itself, when the
portal is a trusted proxy; and a visitor cannot escape them by writing X-Forwarded-For themself."""
from __future__ import annotations

import uuid

import pytest

from services.portal.app import create_app
from services.registry.app import create_app as registry_app
from tests.integration.portal.conftest import ServedApi, csrf_token, portal_config, text
from tests.support import namespaced_settings


@pytest.fixture(scope="module")
def limited(servers):
    settings = namespaced_settings(servers, rate_limit_per_address="2/hour", rate_limit_per_email="",
                                   trusted_proxies=("127.0.0.1/32",))
    registry = ServedApi(registry_app(settings))
    yield create_app(portal_config({"registry": registry.url}), settings)
    registry.stop()


def ask(portal, address: str, headers: dict | None = None):
    client = portal.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/sign-in?lang=en")
    return client.post("/sign-in", headers=headers or {}, data={
        "email": f"someone.{uuid.uuid4().hex[:6]}@example.org", "csrf_token": csrf_token(page.get_data(as_text=True))})


def test_each_visitor_has_their_own_limit_and_a_forged_header_changes_nothing(limited):
    assert [ask(limited, "203.0.113.7").status_code for _ in range(2)] == [303, 303]
    third = ask(limited, "203.0.113.7")
    assert third.status_code == 422 and "Too many sign-in requests" in text(third.get_data(as_text=True))
    forged = ask(limited, "203.0.113.7", {"X-Forwarded-For": f"198.51.100.{uuid.uuid4().int % 200}"})
    assert forged.status_code == 422  # still counted as 203.0.113.7
    assert ask(limited, "203.0.113.8").status_code == 303  # another visitor is not held back
