"""The resource space on the embedded stack: publish, search in Arabic and English, change,
translations and their requests, the session-completed path, erasure, export, stats."""
from __future__ import annotations

import html
import json
import re

import pytest

from shared.tokens import issue_participant_token
from shared.bus import Publisher, read_topic
from shared.events import make_event
from services.resources.app import create_app
from services.resources.worker import build_worker
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    with running(build_worker(settings)):
        yield settings, create_app(settings).test_client()


def body(**changes):
    data = {"title": "Budget development for small groups", "description": "How we planned our first grant budget.",
            "kind": "deck", "url": "https://commons.example.org/budget.pdf", "language": "en",
            "topics": ["budget-development"], "authors": ["Ahmed Example"], "license": "CC-BY-SA-4.0"}
    data.update(changes)
    return data


def events(settings, event_type):
    return [json.loads(r.value) for r in read_topic(settings, settings.topic_name(event_type), timeout=3)]


def test_publish_search_in_two_scripts_and_events(env):
    settings, client = env
    english = client.post("/resources", json=body(), headers=STAFF_HEADERS)
    assert english.status_code == 201
    arabic = client.post("/resources", headers=STAFF_HEADERS, json=body(
        title="إعداد الميزانية للمجموعات الصغيرة", description="كيف خططنا لميزانية المنحة الأولى", language="ar",
        url="https://commons.example.org/budget-ar.pdf"))
    assert arabic.status_code == 201
    found = client.get("/resources?q=الميزانية").get_json()["items"]
    assert [r["id"] for r in found] == [arabic.get_json()["id"]]
    assert [r["id"] for r in client.get("/resources?q=BUDGET grant").get_json()["items"]] == [english.get_json()["id"]]
    assert client.get("/resources?q=budget&language=ar").get_json()["items"] == []
    assert len(client.get("/resources?topic=budget-development&kind=deck").get_json()["items"]) == 2
    published = eventually(lambda: len(events(settings, "resource-published")) >= 2 and
                           events(settings, "resource-published"))
    assert {e["data"]["language"] for e in published} >= {"en", "ar"}


@pytest.mark.parametrize("changes, field", [
    ({"url": "javascript:alert(1)"}, "url"), ({"url": "data:text/html,hi"}, "url"),
    ({"license": "All rights reserved"}, "license"), ({"topics": ["astrology"]}, "topics"),
    ({"language": "xx"}, "language"), ({"kind": "recording"}, "consent"), ({"title": "x" * 301}, "title"),
])
def test_bad_input_is_refused_and_nothing_stored(env, changes, field):
    _, client = env
    before = client.get("/stats").get_json()["resources"]
    response = client.post("/resources", json=body(**changes), headers=STAFF_HEADERS)
    assert response.status_code == 422 and field in response.get_json()["errors"]["json"]
    assert client.get("/stats").get_json()["resources"] == before


def test_owner_or_staff_change_and_delete(env):
    settings, client = env
    owner, other = issue_participant_token(settings, "owner-1"), issue_participant_token(settings, "other-1")
    assert client.post("/resources", json=body()).status_code == 401
    created = client.post("/resources", json=body(title="Mine"), headers=auth(owner)).get_json()
    url = f"/resources/{created['id']}"
    assert client.patch(url, json={"title": "Not yours"}, headers=auth(other)).status_code == 403
    assert client.patch(url, json={"title": "Still mine"}, headers=auth(owner)).get_json()["title"] == "Still mine"
    assert client.delete(url, headers=auth(other)).status_code == 403
    assert client.delete(url, headers=STAFF_HEADERS).status_code == 204
    assert client.get(url).status_code == 404


def test_translation_requests_once_per_language_and_closed_by_the_translation(env):
    settings, client = env
    created = client.post("/resources", json=body(title="Evaluation plans"), headers=STAFF_HEADERS).get_json()
    url = f"/resources/{created['id']}"
    first = client.post(f"{url}/translation-requests", json={"languages": ["ar", "fr", "en"]}, headers=STAFF_HEADERS)
    assert first.get_json() == {"requested": ["ar", "fr"]}
    again = client.post(f"{url}/translation-requests", json={"languages": ["ar", "es"]}, headers=STAFF_HEADERS)
    assert again.get_json() == {"requested": ["es"]}
    requested = eventually(lambda: len(mine := [e for e in events(settings, "translation-requested")
                                                if e["data"]["subject_id"] == created["id"]]) >= 3 and mine)
    assert sorted(e["data"]["language"] for e in requested) == ["ar", "es", "fr"]
    assert {e["data"]["request_id"] for e in requested} == {f"{created['id']}:{lang}" for lang in ("ar", "es", "fr")}
    translated = client.post(f"{url}/translations", headers=STAFF_HEADERS, json={
        "language": "ar", "title": "خطط التقييم", "url": "https://commons.example.org/eval-ar.pdf"})
    assert translated.status_code == 201
    assert client.get(url).get_json()["translations"][0]["language"] == "ar"
    assert client.post(f"{url}/translation-requests", json={"languages": ["ar"]},
                       headers=STAFF_HEADERS).get_json() == {"requested": []}
    assert client.get("/stats").get_json()["translation_requests_open"] >= 2


def test_completed_session_publishes_its_recording_only_with_consent(env):
    settings, client = env
    publisher = Publisher(settings, "test")
    for clinic, consent in (("clinic-yes", True), ("clinic-no", False)):
        data = {"clinic_id": clinic, "title": "Budgets", "topics": ["budget-development"], "language": "en",
                "attendees": ["a", "b"], "recording_url": f"https://commons.example.org/{clinic}.webm",
                "recording_consent": consent, "completed_at": "2026-12-10T16:00:00Z"}
        envelope = make_event("session-completed", clinic, data, "scheduler")
        publisher.publish(envelope)
        publisher.publish(envelope)  # redelivered
    publisher.close()
    items = eventually(lambda: client.get("/resources?clinic=clinic-yes").get_json()["items"])
    assert len(items) == 1 and items[0]["kind"] == "recording"
    assert client.get("/resources?clinic=clinic-no").get_json()["items"] == []


def test_a_topic_staff_added_in_the_registry_is_accepted_once_someone_registers_it(env):
    settings, client = env
    refused = client.post("/resources", json=body(topics=["wikidata-outreach"]), headers=STAFF_HEADERS)
    assert refused.status_code == 422 and "wikidata-outreach" in refused.get_json()["errors"]["json"]["topics"][0]
    skill = {"participant_id": "p-wikidata", "revision": 1, "topic": "wikidata-outreach", "direction": "learn",
             "languages": ["en"], "timezone": "Europe/Berlin", "region": "nwe",
             "group": {"name": "Wikimedia Deutschland", "type": "chapter"}}
    publisher = Publisher(settings, "test")
    publisher.publish(make_event("skill-registered", "p-wikidata", skill, "registry"))
    publisher.close()
    accepted = eventually(lambda: (lambda r: r if r.status_code == 201 else None)(
        client.post("/resources", json=body(topics=["wikidata-outreach"]), headers=STAFF_HEADERS)))
    assert accepted.get_json()["topics"] == ["wikidata-outreach"]


def test_withdrawn_authors_are_unlinked_but_attribution_stays(env):
    settings, client = env
    token = issue_participant_token(settings, "leaver")
    created = client.post("/resources", json=body(title="Leaver's deck", authors=["Leaver Name"]),
                          headers=auth(token)).get_json()
    publisher = Publisher(settings, "test")
    publisher.publish(make_event("participant-withdrawn", "leaver", {"participant_id": "leaver", "revision": 2,
                                                                     "withdrawn_at": "2026-12-01T00:00:00Z"},
                                 "registry"))
    publisher.close()
    eventually(lambda: client.get(f"/resources/{created['id']}").get_json()["owned"] is False)
    assert client.get(f"/resources/{created['id']}").get_json()["authors"] == ["Leaver Name"]


def test_export_lists_every_resource_and_link(env):
    _, client = env
    client.post("/resources", headers=STAFF_HEADERS, json=body(
        title="Tricky || {{title}} [[x]] <b>", url="https://commons.example.org/tricky.pdf"))
    page = client.get("/resources/export.wikitext").get_data(as_text=True)
    everything = client.get("/resources?limit=100").get_json()["items"]
    links = {(m.group(1), html.unescape(m.group(2))) for m in re.finditer(r"\[(https://\S+) ([^\]]+)\]", page)}
    for item in everything:
        assert (item["url"], item["title"]) in links
        for translation in item["translations"]:
            assert translation["url"] in {url for url, _ in links}
    assert any(item["translations"] for item in everything)
    assert "{{title}}" not in page and "[[x]]" not in page


def test_pagination_and_stats(env):
    _, client = env
    seen, cursor = [], None
    while True:
        page = client.get("/resources?limit=2" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    stats = client.get("/stats").get_json()
    assert len(seen) == len(set(seen)) == stats["resources"]
    assert stats["by_kind"]["deck"] >= 3 and 0 < stats["translated_share"] <= 1


def test_bad_changes_and_cursors_are_refused(env):
    _, client = env
    created = client.post("/resources", json=body(title="Stable"), headers=STAFF_HEADERS).get_json()
    url = f"/resources/{created['id']}"
    for change in ({"url": "javascript:alert(1)"}, {"kind": "recording"}, {"license": "proprietary"}):
        assert client.patch(url, json=change, headers=STAFF_HEADERS).status_code == 422
    assert client.get(url).get_json() == created
    assert client.post(f"{url}/translations", headers=STAFF_HEADERS,
                       json={"language": "ar", "title": "x", "url": "ftp://x"}).status_code == 422
    assert client.get(url).get_json()["translations"] == []
    assert client.get("/resources?cursor=%%%").status_code == 422
    assert client.post("/resources/nope/translation-requests", json={"languages": ["ar"]},
                       headers=STAFF_HEADERS).status_code == 404


def test_another_api_process_sees_new_changed_and_deleted_resources(env):
    settings, client = env
    other = create_app(settings).test_client()  # its own search index, as in a second gunicorn worker
    assert other.get("/resources?q=zanzibar").get_json()["items"] == []
    created = client.post("/resources", json=body(title="Zanzibar outreach"), headers=STAFF_HEADERS).get_json()
    assert [r["id"] for r in other.get("/resources?q=zanzibar").get_json()["items"]] == [created["id"]]
    client.patch(f"/resources/{created['id']}", json={"title": "Pemba outreach"}, headers=STAFF_HEADERS)
    assert other.get("/resources?q=zanzibar").get_json()["items"] == []
    assert len(other.get("/resources?q=pemba").get_json()["items"]) == 1
    client.delete(f"/resources/{created['id']}", headers=STAFF_HEADERS)
    assert other.get("/resources?q=pemba").get_json()["items"] == []
