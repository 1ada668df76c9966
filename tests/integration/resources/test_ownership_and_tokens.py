"""Issue 12 on the resources service: only the owner or staff set a resource's translations (anyone
else proposes, beside the owner's link); one token check (reissued and erased participants are
refused, and nothing is created for them); never a 500 from hostile input."""
from __future__ import annotations

import json
import time

import pytest

from shared.bus import Publisher
from shared.events import make_event
from shared.mongo import database
from shared.tokens import issue_participant_token
from services.resources.app import create_app
from services.resources.worker import build_worker
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running
from tests.integration.resources.test_resources_api import body


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    with running(build_worker(settings)):
        yield settings, create_app(settings).test_client()


def publish(settings, event_type, subject, data):
    publisher = Publisher(settings, "test")
    publisher.publish(make_event(event_type, subject, data, "registry"))
    publisher.close()


def withdrawn(pid):
    return {"participant_id": pid, "revision": 9, "withdrawn_at": "2026-12-01T00:00:00Z"}


AR = {"language": "ar", "title": "الميزانية", "url": "https://commons.example.org/owner-ar.pdf"}


def test_only_the_owner_or_staff_set_translations_and_others_propose_beside_them(env):
    settings, client = env
    owner, helper, other = (issue_participant_token(settings, pid) for pid in ("own-1", "help-1", "other-1"))
    created = client.post("/resources", json=body(title="Owned deck"), headers=auth(owner)).get_json()
    url = f"/resources/{created['id']}/translations"
    assert client.post(url, json=AR, headers=auth(owner)).status_code == 201
    offered = client.post(url, headers=auth(helper), json={**AR, "url": "https://evil.example.org/replaced.pdf"})
    assert offered.status_code == 202
    resource = offered.get_json()
    assert resource["translations"] == [{**AR, "added_at": resource["translations"][0]["added_at"]}]  # untouched
    assert [p["url"] for p in resource["proposals"]] == ["https://evil.example.org/replaced.pdf"]
    assert "proposed_by" not in resource["proposals"][0]  # who proposed is not public
    again = client.post(url, headers=auth(helper), json={**AR, "url": "https://commons.example.org/better-ar.pdf"})
    other_offer = client.post(url, headers=auth(other), json={**AR, "url": "https://commons.example.org/other-ar.pdf"})
    assert again.status_code == other_offer.status_code == 202
    assert sorted(p["url"] for p in other_offer.get_json()["proposals"]) == [
        "https://commons.example.org/better-ar.pdf", "https://commons.example.org/other-ar.pdf"]  # own earlier replaced
    adopted = client.post(url, headers=auth(owner), json={**AR, "url": "https://commons.example.org/better-ar.pdf"})
    assert adopted.status_code == 201
    resource = client.get(f"/resources/{created['id']}").get_json()
    assert [t["url"] for t in resource["translations"]] == ["https://commons.example.org/better-ar.pdf"]
    assert [p["url"] for p in resource["proposals"]] == ["https://commons.example.org/other-ar.pdf"]
    staff = client.post(url, headers=STAFF_HEADERS, json={**AR, "language": "fr",
                                                          "url": "https://commons.example.org/fr.pdf"})
    assert staff.status_code == 201 and {t["language"] for t in staff.get_json()["translations"]} == {"ar", "fr"}


def test_translations_of_a_programme_resource_are_set_by_staff_only(env):
    settings, client = env
    created = client.post("/resources", json=body(title="Programme guideline"), headers=STAFF_HEADERS).get_json()
    participant = issue_participant_token(settings, "someone-2")
    offered = client.post(f"/resources/{created['id']}/translations", json=AR, headers=auth(participant))
    assert offered.status_code == 202 and offered.get_json()["translations"] == []


def test_an_erased_proposer_is_unlinked_from_their_proposals(env):
    settings, client = env
    owner, proposer = issue_participant_token(settings, "own-3"), issue_participant_token(settings, "leaving-3")
    created = client.post("/resources", json=body(title="Deck with a proposal"), headers=auth(owner)).get_json()
    client.post(f"/resources/{created['id']}/translations", json=AR, headers=auth(proposer))
    publish(settings, "participant-withdrawn", "leaving-3", withdrawn("leaving-3"))
    db = database(settings, "resources")
    eventually(lambda: db.resources.find_one({"_id": created["id"]})["proposals"][0]["proposed_by"] is None)
    assert client.get(f"/resources/{created['id']}").get_json()["proposals"][0]["url"] == AR["url"]


def test_a_token_issued_before_a_reissue_is_refused(env):
    settings, client = env
    old = issue_participant_token(settings, "reissuer-4", now=time.time() - 60)
    assert client.post("/resources", json=body(title="Before reissue"), headers=auth(old)).status_code == 201
    state = {"participant_id": "reissuer-4", "revision": 2, "username": "Reissuer", "name": "R",
             "email": "r@example.org", "languages": ["en"], "timezone": "Europe/Paris", "region": "nwe",
             "group": {"name": "WMFR", "type": "chapter"}, "role": "board", "purpose": "organising",
             "interests": [{"topic": "budget-development", "direction": "learn"}],
             "consent": {"public_profile": True, "share_contact": True, "recording": True},
             "registered_at": "2026-11-01T00:00:00Z",
             "tokens_valid_after": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(time.time() - 30))}
    publish(settings, "participant-updated", "reissuer-4", state)
    eventually(lambda: client.post("/resources", json=body(title="After reissue"),
                                   headers=auth(old)).status_code == 401)
    fresh = issue_participant_token(settings, "reissuer-4")
    assert client.post("/resources", json=body(title="With the new token"), headers=auth(fresh)).status_code == 201


def test_an_erased_participants_token_creates_nothing(env):
    settings, client = env
    token = issue_participant_token(settings, "eraser-5")
    created = client.post("/resources", json=body(title="Before erasure"), headers=auth(token)).get_json()
    publish(settings, "participant-withdrawn", "eraser-5", withdrawn("eraser-5"))
    eventually(lambda: client.post("/resources/x/translation-requests", json={"languages": ["ar"]},
                                   headers=auth(token)).status_code == 410)
    before = client.get("/stats").get_json()["resources"]
    assert client.post("/resources", json=body(title="After erasure"), headers=auth(token)).status_code == 410
    assert client.post(f"/resources/{created['id']}/translations", json=AR, headers=auth(token)).status_code == 410
    assert client.get("/stats").get_json()["resources"] == before
    assert client.get(f"/resources/{created['id']}").get_json()["proposals"] == []


@pytest.mark.parametrize("raw, status", [
    (json.dumps({**body(), "title": "\ud800"}), 422), (json.dumps({**body(), "authors": ["A\udfff"]}), 422),
    (json.dumps({**body(), "description": "x\x00y"}), 422), (json.dumps({**body(), "topics": [10 ** 400]}), 422),
    (json.dumps({**body(), "language": "en-" + "-".join(["abcdefgh"] * 10)}), 422),
    ("[" * 100_000 + "]" * 100_000, 400), ('{"title": ' + "[" * 40 + "]" * 40 + "}", 400),
])
def test_hostile_resource_bodies_are_4xx_and_store_nothing(env, raw, status):
    _, client = env
    before = client.get("/stats").get_json()["resources"]
    answer = client.post("/resources", data=raw.encode("utf-8", "surrogatepass"), content_type="application/json",
                         headers=STAFF_HEADERS)
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    assert client.get("/stats").get_json()["resources"] == before


@pytest.mark.parametrize("path", ["/resources?cursor=" + "%ff" * 8, "/resources?cursor=WzEsMl0",
                                  "/resources?cursor=" + "A" * 9000, "/resources?limit=10000000000000000000000",
                                  "/resources?q=%ED%A0%80", "/resources/" + "x" * 5000, "/resources/%ED%A0%80"])
def test_hostile_reads_are_answered_without_a_server_error(env, path):
    _, client = env
    assert client.get(path).status_code in (200, 404, 422)
