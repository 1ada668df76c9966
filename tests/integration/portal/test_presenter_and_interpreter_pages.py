"""The presenter's view (clinic.present link) on /clinics/<id> and an interpreter's page
(/interpretation/<id>, interpretation.respond link) through the portal, against the real scheduler
(with its worker and two configured translators) and registry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import requests

from shared.bus import Publisher
from shared.events import make_event
from shared.pseudonyms import translator_id
from shared.tokens import issue_link_token
from services.registry.app import create_app as registry_app
from services.scheduler.app import create_app as scheduler_app
from services.scheduler.store import Store
from services.scheduler.worker import build_worker
from tests.integration.portal.conftest import ServedApi, csrf_token, portal_config, text
from tests.integration.scheduler.test_clinic_team import person
from tests.support import STAFF_HEADERS, eventually, namespaced_settings, running

TRANSLATORS = {"ar": ("ar1@example.org", "ar2@example.org")}
TOPIC = "budget-development"


@pytest.fixture(scope="module")
def team(servers):
    settings = namespaced_settings(servers, translators=TRANSLATORS)
    registry, scheduler = ServedApi(registry_app(settings)), ServedApi(scheduler_app(settings))
    publisher = Publisher(settings, "test")
    with running(build_worker(settings, reminder_every=3600)) as worker:
        publisher.publish(make_event("participant-registered", "presenter-1",
                                     person("presenter-1", ("en", "ar"), learn=(), share=(TOPIC,)), "registry"))
        eventually(lambda: Store(worker.db).people.count_documents({}) == 1)
        start = datetime.now(timezone.utc) + timedelta(days=6)
        clinic = requests.post(scheduler.url + "/clinics", headers=STAFF_HEADERS, timeout=30, json={
            "kind": "monthly", "title": "Budgets that funders trust", "topics": [TOPIC], "sharers": ["presenter-1"],
            "language": "en", "interpretation": ["ar"], "seats": 10, "meeting_url": "https://meet.example.org/room-9",
            "slots": [{"start": start.isoformat(), "minutes": 90}]})
        assert clinic.status_code == 201, clinic.text
        cid = clinic.json()["id"]
        asked = eventually(lambda: requests.get(f"{scheduler.url}/clinics/{cid}/interpretation", headers=STAFF_HEADERS,
                                                timeout=30).json()["requests"])
        from services.portal.app import create_app as portal_app

        portal = portal_app(portal_config({"registry": registry.url, "scheduler": scheduler.url}), settings)
        yield settings, portal, cid, asked[0]["request"]
    publisher.close()
    registry.stop()
    scheduler.stop()


def test_the_presenter_sees_the_meeting_seats_interpretation_and_how_to_prepare(team):
    settings, portal, cid, _ = team
    client = portal.test_client()
    link = issue_link_token(settings, "presenter-1", "clinic.present", cid)
    page = client.get(f"/clinics/{cid}?token={link}&lang=en")
    words = text(page.get_data(as_text=True))
    assert page.status_code == 200 and "You present this clinic" in words
    assert "https://meet.example.org/room-9" in page.get_data(as_text=True)
    assert "0 of 10 seats taken" in words and "Arabic: interpreters asked, waiting for an answer" in words
    assert "How to prepare" in words
    # the same link on another clinic shows the public page only, never the meeting link
    other = issue_link_token(settings, "presenter-1", "clinic.present", "another-clinic")
    public = client.get(f"/clinics/{cid}?token={other}&lang=en").get_data(as_text=True)
    assert "room-9" not in public and "Open the link exactly as it is in your email" in text(public)


def test_an_interpreter_accepts_through_the_link_and_then_sees_the_meeting(team):
    settings, portal, _, request_id = team
    client = portal.test_client()
    first = issue_link_token(settings, translator_id(settings, "ar1@example.org"), "interpretation.respond", request_id)
    page = client.get(f"/interpretation/{request_id}?token={first}&lang=en")
    assert page.status_code == 200 and "Can you interpret this session?" in text(page.get_data(as_text=True))
    assert "room-9" not in page.get_data(as_text=True)
    answer = client.post(f"/interpretation/{request_id}/respond", data={
        "token": first, "response": "accept", "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert answer.status_code == 303
    after = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Thank you: you interpret this session." in text(after) and "room-9" in after
    second = issue_link_token(settings, translator_id(settings, "ar2@example.org"), "interpretation.respond", request_id)
    other = portal.test_client().get(f"/interpretation/{request_id}?token={second}&lang=en").get_data(as_text=True)
    assert "Another interpreter covers this session" in text(other) and "room-9" not in other
    # without the link (or with someone's session) the page is not theirs
    assert client.get(f"/interpretation/{request_id}").status_code == 401
