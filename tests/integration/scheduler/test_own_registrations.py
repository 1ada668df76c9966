"""GET /participants/{id}/registrations: a person's own seats and waitlist places (the portal's "my
clinics"), for their session or the working group, never for someone else or an email link."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shared.tokens import issue_link_token, issue_participant_token
from services.scheduler.app import create_app
from tests.integration.scheduler.test_clinic_lifecycle import Clock, clinic_body, register
from tests.support import STAFF_HEADERS, auth, namespaced_settings


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    return settings, create_app(settings, clock), clock


def test_my_seats_and_waitlist_places_soonest_first(env):
    settings, app, clock = env
    client = app.test_client()
    later = client.post("/clinics", json=clinic_body(clock, title="Later", seats=1), headers=STAFF_HEADERS).get_json()
    sooner_body = clinic_body(clock, title="Sooner", seats=1)
    for slot in sooner_body["slots"]:
        slot["start"] = (clock.now + timedelta(days=1, hours=sooner_body["slots"].index(slot))).isoformat()
    sooner = client.post("/clinics", json=sooner_body, headers=STAFF_HEADERS).get_json()
    assert register(app, settings, later, "someone-else").get_json()["status"] == "confirmed"
    assert register(app, settings, later, "mina").get_json()["status"] == "waitlisted"
    assert register(app, settings, sooner, "mina", interpretation="ar").get_json()["status"] == "confirmed"

    mine = client.get("/participants/mina/registrations", headers=auth(issue_participant_token(settings, "mina")))
    assert mine.status_code == 200
    items = mine.get_json()["items"]
    assert [(i["title"], i["status"], i["position"]) for i in items] == [("Sooner", "confirmed", None),
                                                                         ("Later", "waitlisted", 1)]
    assert items[0]["interpretation"] == "ar" and items[0]["meeting_url"] == "https://meet.example.org/secret-room"
    assert items[1]["meeting_url"] is None and items[0]["start"] < items[1]["start"]

    client.delete(f"/clinics/{sooner['id']}/registrations/mina", headers=auth(issue_participant_token(settings, "mina")))
    after = client.get("/participants/mina/registrations", headers=STAFF_HEADERS).get_json()["items"]
    assert [i["title"] for i in after] == ["Later"]  # a cancelled seat is no longer listed; staff may read


def test_nobody_else_reads_my_seats(env):
    settings, app, _ = env
    client = app.test_client()
    assert client.get("/participants/mina/registrations").status_code == 401
    assert client.get("/participants/mina/registrations",
                      headers=auth(issue_participant_token(settings, "someone-else"))).status_code == 403
    link = issue_link_token(settings, "mina", "clinic.register", "any-clinic")
    assert client.get("/participants/mina/registrations", headers=auth(link)).status_code == 403
    assert client.get("/participants/nobody/registrations", headers=STAFF_HEADERS).get_json()["items"] == []
