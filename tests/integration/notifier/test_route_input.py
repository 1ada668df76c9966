"""Never a 500 from input on the notifier's routes (issue 12, item 5): malformed tokens are 401,
bad ids, cursors, limits and bodies are 4xx naming the field; and a fuzz of every route."""
from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from services.notifier.app import create_app
from tests.support import STAFF_HEADERS, namespaced_settings


@pytest.fixture(scope="module")
def client(servers):
    return create_app(namespaced_settings(servers)).test_client()


def payload(claims: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")


MALFORMED_TOKENS = [
    "lc1.!!!.x", "lc1.e30.x", "lc1.eyJ9.é", "not-a-token", "lc1." + "A" * 5000 + ".x",
    "lc1." + payload({"typ": "staff", "sub": "x", "iat": 10 ** 400, "exp": 1, "kid": "k1", "jti": "j"}) + ".s",
    "lc1." + payload({"typ": "link", "sub": "p", "iat": -1e308, "exp": 1e308, "kid": "k1", "jti": "j"}) + ".s",
    "lc1." + payload(["not", "an", "object"]) + ".s",
]


@pytest.mark.parametrize("token", MALFORMED_TOKENS, ids=range(len(MALFORMED_TOKENS)))
def test_malformed_tokens_are_401_everywhere(client, token):
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/notifications", headers=bearer).status_code == 401
    assert client.put("/preferences/p1", json={"skip": []}, headers=bearer).status_code == 401
    assert client.post(f"/unsubscribe?category=matches&token={quote(token)}").status_code == 401
    assert client.get(f"/unsubscribe?category=matches&token={quote(token)}").status_code == 401
    assert client.post("/translation-requests/tr-1/done", headers=bearer).status_code == 401


@pytest.mark.parametrize("method, path, field", [
    ("get", "/preferences/" + "x" * 5000, "participant"),
    ("put", "/preferences/a%00b", "participant"),
    ("post", "/translation-requests/" + "y" * 3000 + "/done", "request_id"),
    ("post", "/translation-requests/%01/done", "request_id"),
    ("get", "/notifications?cursor=%ff%fe", "cursor"),
    ("get", "/notifications?cursor=e30", "cursor"),
    ("get", "/notifications?cursor=" + "A" * 600, "cursor"),
    ("get", "/notifications?limit=99999999999999999999999", "limit"),
    ("get", "/notifications?participant=" + "p" * 65, "participant"),
    ("get", "/translation-requests?cursor=WzFd", "cursor"),
    ("get", "/translation-requests?language=" + "l" * 40, "language"),
    ("get", "/unsubscribe?category=schedule&token=x", "category"),
])
def test_bad_ids_cursors_and_limits_are_422_naming_the_field(client, method, path, field):
    response = getattr(client, method)(path, headers=STAFF_HEADERS, json={} if method == "put" else None)
    assert response.status_code == 422, response.get_json()
    assert field in json.dumps(response.get_json()["errors"])


@pytest.mark.parametrize("body", ['{"skip": ["\\ud800"]}', '{"resources": "\\u0000"}', '{"skip": "matches"}',
                                  '{"skip": [' + '"matches",' * 5000 + '"matches"]}', '{"resources": 1e999}',
                                  "[]", "null", '{"skip": null}'])
def test_odd_preference_bodies_are_refused_or_stored_never_500(client, body):
    response = client.put("/preferences/p-odd", data=body, content_type="application/json", headers=STAFF_HEADERS)
    assert response.status_code in (200, 400, 422), response.get_json()
    if response.status_code == 200:
        assert response.get_json()["skip"] in ([], ["matches"])


text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80)


@hypothesis_settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=text, query=st.dictionaries(st.sampled_from(["participant", "event_id", "status", "limit", "cursor",
                                                            "language", "category", "token"]), text, max_size=4),
       body=st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | text,
                         lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
                         max_leaves=12))
def test_no_route_answers_500_to_anything(client, segment, query, body):
    segment = quote(segment, safe="") or "x"
    query_string = "&".join(f"{key}={quote(value, safe='')}" for key, value in query.items())
    for method, path in (("get", "/notifications"), ("get", f"/preferences/{segment}"),
                         ("put", f"/preferences/{segment}"), ("get", "/unsubscribe"), ("post", "/unsubscribe"),
                         ("get", f"/preferences/{segment}/unsubscribe"),
                         ("post", f"/preferences/{segment}/unsubscribe"), ("get", "/translation-requests"),
                         ("post", f"/translation-requests/{segment}/done")):
        response = getattr(client, method)(f"{path}?{query_string}", headers=STAFF_HEADERS,
                                           json=body if method == "put" else None)
        assert response.status_code < 500, (method, path, query_string, body, response.get_data(as_text=True))
