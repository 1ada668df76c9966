"""Other front ends post to the registry from their own origin: the public routes answer CORS for the
origins in LC_CORS_ORIGINS, and nothing else does (docs/examples/cors-form.html)."""
from __future__ import annotations

import uuid

import pytest

from services.registry.app import create_app
from tests.support import STAFF_HEADERS, namespaced_settings

ALLOWED = "https://forms.example.org"


@pytest.fixture(scope="module")
def clients(servers):
    settings = namespaced_settings(servers)
    return create_app(settings, origins=[ALLOWED]).test_client(), create_app(settings, origins=[]).test_client()


def body() -> dict:
    tag = uuid.uuid4().hex[:8]
    return {"username": f"Cors {tag}", "name": "Cors", "email": f"{tag}@example.org", "languages": ["en"],
            "timezone": "Europe/Lisbon", "region": "nwe", "group": {"name": "WM PT", "type": "chapter"},
            "role": "volunteer", "purpose": "organising", "interests": [{"topic": "governance", "direction": "learn"}],
            "consent": {"public_profile": False, "share_contact": True, "recording": False}}


def preflight(client, path: str, origin: str, method: str = "POST"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "content-type"})


def test_an_allowed_origin_may_register_from_its_own_page(clients):
    client, _ = clients
    answer = preflight(client, "/participants", ALLOWED)
    assert answer.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "content-type" in answer.headers["Access-Control-Allow-Headers"].lower()
    assert "Access-Control-Allow-Credentials" not in answer.headers
    created = client.post("/participants", json=body(), headers={"Origin": ALLOWED})
    assert created.status_code == 201 and created.headers["Access-Control-Allow-Origin"] == ALLOWED
    for path in ("/taxonomy", "/directory"):
        assert client.get(path, headers={"Origin": ALLOWED}).headers["Access-Control-Allow-Origin"] == ALLOWED


def test_another_origin_gets_no_cors_answer(clients):
    client, _ = clients
    assert "Access-Control-Allow-Origin" not in preflight(client, "/participants", "https://evil.example").headers
    assert "Access-Control-Allow-Origin" not in client.get("/taxonomy", headers={"Origin": "https://evil.example"}).headers


def test_routes_that_take_a_token_or_staff_never_answer_cors(clients):
    client, _ = clients
    created = client.post("/participants", json=body()).get_json()
    for path, method in ((f"/participants/{created['id']}", "GET"), (f"/participants/{created['id']}", "PATCH"),
                         (f"/participants/{created['id']}", "DELETE"), ("/imports", "POST"),
                         ("/taxonomy/topics", "POST")):
        assert "Access-Control-Allow-Origin" not in preflight(client, path, ALLOWED, method).headers, path
    own = client.get(f"/participants/{created['id']}", headers={"Origin": ALLOWED, **STAFF_HEADERS})
    assert own.status_code == 200 and "Access-Control-Allow-Origin" not in own.headers


def test_without_an_allow_list_no_route_answers_cors(clients):
    _, closed = clients
    assert "Access-Control-Allow-Origin" not in preflight(closed, "/participants", ALLOWED).headers
    assert "Access-Control-Allow-Origin" not in closed.get("/taxonomy", headers={"Origin": ALLOWED}).headers
