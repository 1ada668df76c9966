"""Staff actions on clinics are audited by the scheduler (issue 15): create, propose, edit, cancel,
attendance, each with the staff member and their roles, before/after of an edit; roles come from
shared/roles.py (an ambassador proposes, the working group edits)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from shared.tokens import issue_staff_token
from services.scheduler.app import create_app
from tests.integration.scheduler.test_clinic_lifecycle import Clock, clinic_body
from tests.support import auth, namespaced_settings


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    return settings, create_app(settings, clock).test_client(), clock


def test_clinic_actions_are_audited_with_the_person_who_took_them(env):
    settings, client, clock = env
    member = auth(issue_staff_token(settings, "wg-7", ["working_group"]))
    ambassador = auth(issue_staff_token(settings, "amb-7", ["ambassador"]))
    coordinator = auth(issue_staff_token(settings, "coord-7", ["coordinator"]))

    created = client.post("/clinics", json=clinic_body(clock), headers=member)
    assert created.status_code == 201, created.get_json()
    clinic = created.get_json()
    proposed = client.post("/clinics", json=clinic_body(clock, title="An ambassador's idea"), headers=ambassador)
    assert proposed.status_code == 201 and proposed.get_json()["status"] == "proposed"

    assert client.patch(f"/clinics/{clinic['id']}", json={"title": "Nope"}, headers=ambassador).status_code == 403
    edited = client.patch(f"/clinics/{clinic['id']}", json={"title": "Budgets funders trust, again"}, headers=member)
    assert edited.status_code == 200, edited.get_json()
    assert client.post(f"/clinics/{proposed.get_json()['id']}/cancel", headers=member).status_code == 200

    saved = clock.now
    try:
        clock.now = saved + timedelta(days=4)
        done = client.post(f"/clinics/{clinic['id']}/complete", json={"attendees": []}, headers=member)
        assert done.status_code == 200, done.get_json()
    finally:
        clock.now = saved

    assert client.get("/audit", headers=member).status_code == 403
    records = client.get("/audit", headers=coordinator).get_json()["items"]
    seen = [(r["action"], r["actor"]["id"], r["target"]["id"]) for r in records]
    assert seen == [("clinic.attendance", "wg-7", clinic["id"]),
                    ("clinic.cancel", "wg-7", proposed.get_json()["id"]),
                    ("clinic.update", "wg-7", clinic["id"]),
                    ("clinic.propose", "amb-7", proposed.get_json()["id"]),
                    ("clinic.create", "wg-7", clinic["id"])]
    update = next(r for r in records if r["action"] == "clinic.update")
    assert update["before"] == {"title": "Budgets that funders trust"}
    assert update["after"] == {"title": "Budgets funders trust, again"}
    assert update["actor"]["roles"] == ["working_group"]
    only_amb = client.get("/audit", query_string={"actor": "amb-7"}, headers=coordinator).get_json()["items"]
    assert [r["action"] for r in only_amb] == ["clinic.propose"]
