"""Recording consent per person and feedback that is read (issue 17), on the embedded stack with the
resources service's worker: a recording with an attendee who refused is not published until staff
confirm, and the published resource names its consent basis; staff read comments and aggregates,
participants cannot."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.bus import Publisher, read_topic
from shared.events import make_event
from shared.tokens import issue_link_token, issue_participant_token, issue_staff_token
from services.resources.app import create_app as resources_app
from services.resources.worker import build_worker as resources_worker
from services.scheduler.app import create_app
from services.scheduler.store import Store
from services.scheduler.worker import build_worker
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running

TOPIC = "fundraising"


def person(pid, recording):
    return {"participant_id": pid, "revision": 1, "username": pid, "name": pid.title(), "email": f"{pid}@example.org",
            "languages": ["en"], "timezone": "Europe/Lisbon", "region": "nwe",
            "group": {"name": "Wikimedia Portugal", "type": "chapter"}, "role": "board", "purpose": "organising",
            "activities": [], "interests": [{"topic": TOPIC, "direction": "learn"}],
            "consent": {"public_profile": True, "share_contact": True, "recording": recording},
            "registered_at": "2026-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    app = create_app(settings)
    resources = resources_app(settings).test_client()
    with running(build_worker(settings), resources_worker(settings)) as (worker, _):
        publisher = Publisher(settings, "test")
        for pid, consent in (("yes-1", True), ("yes-2", True), ("no-1", False)):
            publisher.publish(make_event("participant-registered", pid, person(pid, consent), "registry"))
        publisher.close()
        store = Store(worker.db)
        eventually(lambda: store.people.count_documents({}) == 3)
        yield settings, app.test_client(), resources


def held_clinic(settings, client, attendees, title="Fundraising from local partners"):
    start = datetime.now(timezone.utc) + timedelta(days=2)
    clinic = client.post("/clinics", headers=STAFF_HEADERS, json={
        "kind": "monthly", "title": title, "topics": [TOPIC], "language": "en", "seats": 10,
        "slots": [{"start": start.isoformat(), "minutes": 90}]}).get_json()
    for pid in attendees:
        assert client.post(f"/clinics/{clinic['id']}/registrations", headers=auth(issue_participant_token(settings, pid)),
                           json={"participant": pid, "slot": clinic["slots"][0]["id"]}).status_code == 201
    return clinic


def applied_by_resources(settings, event_type, clinic_id):
    """The resources worker has applied this clinic's event (its inbox holds the event id)."""
    from shared.mongo import database
    found = [json.loads(r.value) for r in read_topic(settings, settings.topic_name(event_type), timeout=2)]
    ids = [e["id"] for e in found if e["subject"] == clinic_id]
    return ids and database(settings, "resources")["inbox"].count_documents({"_id": {"$in": [
        f"resources:{event_id}" for event_id in ids]}}) == len(ids)


def test_a_recording_waits_for_staff_when_someone_refused(env):
    settings, client, resources = env
    clinic = held_clinic(settings, client, ["yes-1", "no-1"])
    cid = clinic["id"]
    done = client.post(f"/clinics/{cid}/complete", headers=STAFF_HEADERS, json={
        "attendees": ["yes-1", "no-1"], "recording_url": "https://commons.example.org/fundraising.webm"})
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["recording"] == {"status": "pending", "basis": None, "unconsented": ["no-1"],
                                            "not_recorded": [], "confirmed_by": None}
    assert client.post(f"/clinics/{cid}/complete", json={"attendees": [], "recording_consent": True},
                       headers=STAFF_HEADERS).status_code == 422  # the staff yes/no no longer decides
    eventually(lambda: applied_by_resources(settings, "session-completed", cid))
    assert resources.get(f"/resources?clinic={cid}").get_json()["items"] == []

    incomplete = client.post(f"/clinics/{cid}/recording/confirm", json={"not_recorded": ["yes-1"]},
                             headers=STAFF_HEADERS)
    assert incomplete.status_code == 422 and "no-1" in json.dumps(incomplete.get_json()["errors"]["json"]["not_recorded"])
    participant = auth(issue_participant_token(settings, "yes-1"))
    assert client.post(f"/clinics/{cid}/recording/confirm", json={"not_recorded": ["no-1"]},
                       headers=participant).status_code == 403
    confirmed = client.post(f"/clinics/{cid}/recording/confirm", json={"not_recorded": ["no-1"]},
                            headers=auth(issue_staff_token(settings, "wg-7", ["working_group"])))
    assert confirmed.status_code == 200, confirmed.get_json()
    assert confirmed.get_json()["recording"]["basis"] == "staff_confirmed_unconsented_not_recorded"
    assert client.post(f"/clinics/{cid}/recording/confirm", json={"not_recorded": ["no-1"]},
                       headers=STAFF_HEADERS).status_code == 409
    [cleared] = eventually(lambda: [json.loads(r.value)["data"] for r in read_topic(
        settings, settings.topic_name("clinic-recording-cleared"), timeout=2) if json.loads(r.value)["subject"] == cid])
    assert cleared["confirmed_by"] == "wg-7" and cleared["not_recorded"] == ["no-1"]
    [published] = eventually(lambda: resources.get(f"/resources?clinic={cid}").get_json()["items"])
    assert published["kind"] == "recording"
    assert "attendees who did not consent to recording were not recorded" in published["description"]


def test_a_recording_everyone_consented_to_is_published_at_once(env):
    settings, client, resources = env
    clinic = held_clinic(settings, client, ["yes-1", "yes-2"], title="Fundraising, second round")
    done = client.post(f"/clinics/{clinic['id']}/complete", headers=STAFF_HEADERS, json={
        "attendees": ["yes-1", "yes-2"], "recording_url": "https://commons.example.org/fundraising-2.webm"})
    assert done.get_json()["recording"]["status"] == "publishable" and done.get_json()["recording_consent"]
    [published] = eventually(lambda: resources.get(f"/resources?clinic={clinic['id']}").get_json()["items"])
    assert "every attendee consented" in published["description"]


def test_feedback_is_read_by_the_working_group_only(env):
    settings, client, _ = env
    clinic = held_clinic(settings, client, ["yes-1", "yes-2", "no-1"], title="Fundraising, third round")
    cid = clinic["id"]
    client.post(f"/clinics/{cid}/complete", headers=STAFF_HEADERS, json={"attendees": ["yes-1", "yes-2", "no-1"]})
    answers = {"yes-1": {"useful": True, "rating": 5, "comment": "Concrete examples from Portugal",
                         "what_was_useful": "the sponsor letter template", "what_to_improve": "more time for Q&A"},
               "yes-2": {"useful": False, "rating": 2, "comment": ""}}
    for pid, answer in answers.items():
        link = auth(issue_link_token(settings, pid, "clinic.feedback", cid))
        given = client.post(f"/clinics/{cid}/feedback", json={"participant": pid, **answer}, headers=link)
        assert given.status_code == 201, given.get_json()
    assert client.post(f"/clinics/{cid}/feedback", json={"participant": "no-1", "useful": True, "rating": 4},
                       headers=STAFF_HEADERS).status_code == 403  # nobody gives feedback in someone's name

    read = client.get(f"/clinics/{cid}/feedback", headers=STAFF_HEADERS)
    assert read.status_code == 200
    body = read.get_json()
    assert body["count"] == 2 and body["useful_share"] == 0.5 and body["average_rating"] == 3.5
    assert body["ratings"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1} and body["comments"] == 1
    assert body["attendees"] == 3
    assert {item["what_was_useful"] for item in body["items"]} == {"the sponsor letter template", ""}
    assert "yes-1" not in json.dumps(body)  # what was said, never who said it
    for refused in (auth(issue_participant_token(settings, "yes-1")),
                    auth(issue_link_token(settings, "yes-1", "clinic.feedback", cid)),
                    auth(issue_staff_token(settings, "amb", ["ambassador"]))):
        assert client.get(f"/clinics/{cid}/feedback", headers=refused).status_code == 403
        assert client.get("/feedback", headers=refused).status_code == 403
    assert client.get(f"/clinics/{cid}/feedback").status_code == 401

    since = (datetime.now(timezone.utc) - timedelta(hours=1)).isoformat()
    first = client.get("/feedback", query_string={"topic": TOPIC, "since": since, "limit": 1},
                       headers=STAFF_HEADERS).get_json()
    assert first["summary"]["count"] == 2 and len(first["items"]) == 1 and first["next"]
    assert first["by_topic"] == [{"topic": TOPIC, "feedback": 2, "useful_share": 0.5, "average_rating": 3.5}]
    second = client.get("/feedback", query_string={"topic": TOPIC, "since": since, "limit": 1,
                                                   "cursor": first["next"]}, headers=STAFF_HEADERS).get_json()
    assert len(second["items"]) == 1 and second["next"] is None
    assert {first["items"][0]["rating"], second["items"][0]["rating"]} == {5, 2}
    assert client.get("/feedback", query_string={"cursor": "not-a-cursor"}, headers=STAFF_HEADERS).status_code == 422
    assert client.get("/feedback", query_string={"topic": "budget-development"},
                      headers=STAFF_HEADERS).get_json()["summary"]["count"] == 0
    questions = client.get("/feedback/questions").get_json()
    assert [q["id"] for q in questions["follow_up"]] == ["what_was_useful", "what_to_improve"]

    stats = client.get("/stats").get_json()
    assert stats["feedback_by_rating"]["5"] >= 1 and stats["feedback_comments"] >= 1
    assert any(row["topic"] == TOPIC for row in stats["usefulness_by_topic"])
