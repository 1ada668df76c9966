"""The console's participants and translation pages against the real services over HTTP (issue
15): the working group searches every profile, downloads a CSV safe to open in a spreadsheet,
imports a form's CSV and reads the per-row result; the translators' queue is the translator's,
an ambassador gets the console's 403 page. (Signing in through the emailed link is
tests/browser/test_staff_console.py; here the console's cookie is set directly.)"""
from __future__ import annotations

import csv
import importlib
import io
import re
import uuid

import pytest
import requests

from shared.config import SERVICES
from shared.tokens import issue_staff_token
from tests.integration.portal.conftest import ServedApi, portal_config
from tests.support import namespaced_settings

from services.portal.app import create_app


@pytest.fixture(scope="module")
def console(servers):
    settings = namespaced_settings(servers)
    apis = {name: ServedApi(importlib.import_module(f"services.{name}.app").create_app(settings)) for name in SERVICES}
    app = create_app(portal_config({name: api.url for name, api in apis.items()}), settings)
    yield settings, apis, app
    for api in apis.values():
        api.stop()


def signed_in(app, settings, role):
    client = app.test_client()
    client.set_cookie("lc_staff", issue_staff_token(settings, f"staff-{role}", [role]), path="/staff")
    return client


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def register(apis, name):
    tag = uuid.uuid4().hex[:8]
    answer = requests.post(apis["registry"].url + "/participants", timeout=30, json={
        "username": f"Console {tag}", "name": name, "email": f"console.{tag}@example.org", "languages": ["fr"],
        "timezone": "Africa/Dakar", "region": "ssa", "group": {"name": "Wikimedia Sénégal", "type": "user_group"},
        "role": "volunteer", "purpose": "organising", "interests": [{"topic": "fundraising", "direction": "learn"}],
        "consent": {"public_profile": False, "share_contact": False, "recording": False}})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_search_export_and_import_participants(console):
    settings, apis, app = console
    person = register(apis, "=1+2 Awa")
    member = signed_in(app, settings, "working_group")

    found = member.get("/staff/participants", query_string={"q": "=1+2"})
    assert found.status_code == 200 and f"/staff/participants/{person['id']}" in found.get_data(as_text=True)
    profile = member.get(f"/staff/participants/{person['id']}")
    assert profile.status_code == 200 and "Wikimedia Sénégal" in profile.get_data(as_text=True)

    exported = member.get("/staff/participants.csv", query_string={"region": "ssa"})
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff"))))
    [row] = [r for r in rows if r["id"] == person["id"]]
    assert row["name"] == "'=1+2 Awa" and row["learns"] == "fundraising" and row["public_profile"] == "no"

    upload = ("username,name,email,languages,timezone,region,group_name,group_type,role,purpose,learn_topics\n"
              f"Imported {uuid.uuid4().hex[:6]},Imported Person,imported@example.org,fr,Africa/Dakar,ssa,"
              "Wikimedia Sénégal,user_group,volunteer,organising,fundraising\n"
              "Broken,,not-an-address,fr,Africa/Dakar,ssa,,,,,\n").encode("utf-8")
    page = member.get("/staff/participants")
    report = member.post("/staff/participants/import", data={"csrf_token": csrf(page),
                                                             "file": (io.BytesIO(upload), "form.csv")},
                         content_type="multipart/form-data")
    text = report.get_data(as_text=True)
    assert report.status_code == 200, text
    assert 'data-status="created"' in text and 'data-status="rejected"' in text

    ambassador = signed_in(app, settings, "ambassador")
    refused = ambassador.get("/staff/participants", query_string={"q": "x"})
    assert refused.status_code == 403 and "Not for your role" in refused.get_data(as_text=True)


def test_the_translators_queue_is_the_translators(console):
    settings, _, app = console
    translator = signed_in(app, settings, "translator")
    queue = translator.get("/staff/translations?lang=fr")
    assert queue.status_code == 200 and "Demandes de traduction" in queue.get_data(as_text=True)
    ambassador = signed_in(app, settings, "ambassador")
    assert ambassador.get("/staff/translations").status_code == 403


def test_without_a_staff_cookie_every_console_page_leads_to_sign_in(console):
    _, _, app = console
    client = app.test_client()
    for path in ("/staff/", "/staff/participants", "/staff/participants.csv", "/staff/audit", "/staff/accounts"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/staff/sign-in"), path
    forged = app.test_client()
    forged.set_cookie("lc_staff", "lc1.forged.token", path="/staff")
    assert forged.get("/staff/audit").status_code == 302


def test_the_working_group_hides_and_restores_a_resource_from_the_console(console):
    settings, apis, app = console
    made = requests.post(apis["resources"].url + "/resources", timeout=30,
                         headers={"Authorization": f"Bearer {issue_staff_token(settings, 'wg', ['working_group'])}"},
                         json={"title": "Duplicated toolkit", "description": "The same as last year's.",
                               "kind": "guideline", "url": "https://commons.example.org/dup.pdf", "language": "en",
                               "topics": ["budget-development"], "authors": ["Someone"]}).json()
    member = signed_in(app, settings, "working_group")
    page = member.get("/staff/resources", query_string={"q": "duplicated"})
    assert page.status_code == 200 and "Duplicated toolkit" in page.get_data(as_text=True)
    hidden = member.post(f"/staff/resources/{made['id']}/hide", data={"csrf_token": csrf(page), "reason": "duplicate"})
    assert hidden.status_code == 302
    assert requests.get(apis["resources"].url + f"/resources/{made['id']}", timeout=30).status_code == 404
    listing = member.get("/staff/resources")
    assert "duplicate (staff-working_group)" in listing.get_data(as_text=True)
    restored = member.post(f"/staff/resources/{made['id']}/restore", data={"csrf_token": csrf(listing)})
    assert restored.status_code == 302
    assert requests.get(apis["resources"].url + f"/resources/{made['id']}", timeout=30).status_code == 200
    assert signed_in(app, settings, "ambassador").get("/staff/resources").status_code == 403


def test_learning_spaces_and_clinic_edits_from_the_console(console):
    from datetime import datetime, timedelta, timezone

    settings, apis, app = console
    member = signed_in(app, settings, "working_group")
    page = member.get("/staff/spaces")
    assert page.status_code == 200
    bad = member.post("/staff/spaces", data={"csrf_token": csrf(page), "title": "x", "link": "ftp://nope"})
    assert bad.status_code == 422 and "Choose at least one language." in bad.get_data(as_text=True)
    added = member.post("/staff/spaces", data={"csrf_token": csrf(page), "title": "Budget circle",
                                                "kind": "community_of_practice", "topic": "budget-development",
                                                "languages": ["fr", "ar"], "link": "https://meet.example.org/circle"})
    assert added.status_code == 302
    assert "Budget circle" in member.get("/staff/spaces").get_data(as_text=True)

    start = (datetime.now(timezone.utc) + timedelta(days=10)).replace(microsecond=0)
    clinic = requests.post(apis["scheduler"].url + "/clinics", timeout=30,
                           headers={"Authorization": f"Bearer {issue_staff_token(settings, 'wg', ['working_group'])}"},
                           json={"kind": "monthly", "title": "Before the edit", "topics": ["budget-development"],
                                 "slots": [{"start": start.isoformat(), "minutes": 60}], "language": "fr"}).json()
    shown = member.get(f"/staff/clinics/{clinic['id']}")
    edited = member.post(f"/staff/clinics/{clinic['id']}/edit",
                         data={"csrf_token": csrf(shown), "title": "After the edit", "description": ""})
    assert edited.status_code == 302
    assert "After the edit" in member.get(f"/staff/clinics/{clinic['id']}").get_data(as_text=True)
    coordinator = {"Authorization": f"Bearer {issue_staff_token(settings, 'c', ['coordinator'])}"}
    records = requests.get(apis["scheduler"].url + "/audit", headers=coordinator, timeout=30,
                           params={"action": "clinic.update"}).json()["items"]
    assert records[0]["actor"]["id"] == "staff-working_group" and records[0]["after"] == {"title": "After the edit"}
    lead = signed_in(app, settings, "coordinator")
    log = lead.get("/staff/audit", query_string={"action": "clinic.update", "since": "2000-01-01"})
    assert log.status_code == 200 and 'data-action="clinic.update"' in log.get_data(as_text=True)
    future = lead.get("/staff/audit", query_string={"since": "2999-01-01"})
    assert 'data-action=' not in future.get_data(as_text=True)
    assert member.get("/staff/audit").status_code == 403  # the log is the coordinators'


def test_connections_are_filtered_by_region_on_the_console(console):
    """The matcher's read model knows where people are: the console's region filter shows a
    connection between two people from the Middle East and North Africa under that region only."""
    from shared.bus import Publisher
    from services.matcher.worker import build_worker
    from tests.integration.matcher.helpers import publish, skill
    from tests.support import eventually, running

    settings, apis, app = console
    tag = uuid.uuid4().hex[:6]
    sharer, learner = f"sharer-{tag}", f"learner-{tag}"
    publisher = Publisher(settings, "test")
    staff = {"Authorization": f"Bearer {issue_staff_token(settings, 'wg', ['working_group'])}"}
    with running(build_worker(settings)):
        publish(publisher, "skill-registered", skill(sharer, "fundraising", "share", region="mena"))
        publish(publisher, "skill-registered", skill(learner, "fundraising", "learn", region="mena"))
        eventually(lambda: requests.get(apis["matcher"].url + "/outcomes", headers=staff, timeout=30,
                                        params={"topic": "fundraising"}).json()["items"], timeout=60)
    publisher.close()

    member = signed_in(app, settings, "working_group")
    mena = member.get("/staff/connections", query_string={"region": "mena"}).get_data(as_text=True)
    assert learner in mena and sharer in mena
    assert '<option value="mena" selected>' in mena
    elsewhere = member.get("/staff/connections", query_string={"region": "lac"}).get_data(as_text=True)
    assert learner not in elsewhere and "No connection matches." in elsewhere
    french = member.get("/staff/connections", query_string={"region": "lac", "lang": "fr"}).get_data(as_text=True)
    assert "Amérique latine" in french


def test_a_clinics_times_and_sharers_are_edited_and_its_recording_confirmed_from_the_console(console):
    """The edit form takes what the scheduler's PATCH takes (times, lengths, presenters, a new
    meeting link); after attendance with a recording, the clinic page asks staff to confirm that
    the attendee who did not consent was not recorded, and the scheduler audits the confirmation."""
    from datetime import datetime, timedelta, timezone

    settings, apis, app = console
    tag = uuid.uuid4().hex[:6]
    first, second = f"presenter-a-{tag}", f"presenter-b-{tag}"
    staff = {"Authorization": f"Bearer {issue_staff_token(settings, 'wg', ['working_group'])}"}
    start = (datetime.now(timezone.utc) + timedelta(days=12)).replace(minute=0, second=0, microsecond=0)
    clinic = requests.post(apis["scheduler"].url + "/clinics", timeout=30, headers=staff,
                           json={"kind": "monthly", "title": "Recorded clinic", "topics": ["budget-development"],
                                 "slots": [{"start": start.isoformat(), "minutes": 60}], "language": "fr",
                                 "sharers": [first]}).json()
    [slot] = clinic["slots"]
    member = signed_in(app, settings, "working_group")
    shown = member.get(f"/staff/clinics/{clinic['id']}")
    assert f'name="start-{slot["id"]}"' in shown.get_data(as_text=True)
    later = (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    edited = member.post(f"/staff/clinics/{clinic['id']}/edit", data={
        "csrf_token": csrf(shown), "title": "Recorded clinic", "description": "",
        f"start-{slot['id']}": later, f"minutes-{slot['id']}": "90", "sharers": f"{first}, {second}",
        "meeting_url": "https://meet.example.org/recorded"})
    assert edited.status_code == 302, edited.get_data(as_text=True)
    now = requests.get(apis["scheduler"].url + f"/clinics/{clinic['id']}", headers=staff, timeout=30).json()
    assert now["slots"][0]["start"].startswith(later) and now["slots"][0]["minutes"] == 90
    assert now["sharers"] == [first, second] and now["has_meeting_link"] is True
    moved_back = member.post(f"/staff/clinics/{clinic['id']}/edit", data={
        "csrf_token": csrf(shown), f"start-{slot['id']}": "2001-01-01T10:00"})
    assert moved_back.status_code == 422 and "past" in moved_back.get_data(as_text=True)

    page = member.get(f"/staff/clinics/{clinic['id']}")
    completed = member.post(f"/staff/clinics/{clinic['id']}/attendance", data={
        "csrf_token": csrf(page), "attended": [first], "recording_url": "https://commons.example.org/rec.webm"})
    assert completed.status_code == 302
    pending = member.get(f"/staff/clinics/{clinic['id']}").get_data(as_text=True)
    assert 'class="recording-confirm"' in pending and f'name="not_recorded" value="{first}"' in pending
    public = requests.get(apis["scheduler"].url + f"/clinics/{clinic['id']}", timeout=30).json()
    assert "attendees" not in public and "recording" not in public  # the working group's only
    unticked = member.post(f"/staff/clinics/{clinic['id']}/recording", data={"csrf_token": csrf(page)})
    assert unticked.status_code == 422
    confirmed = member.post(f"/staff/clinics/{clinic['id']}/recording",
                            data={"csrf_token": csrf(page), "not_recorded": [first]})
    assert confirmed.status_code == 302
    cleared = member.get(f"/staff/clinics/{clinic['id']}").get_data(as_text=True)
    assert 'data-recording="cleared"' in cleared and "staff-working_group" in cleared
    coordinator = {"Authorization": f"Bearer {issue_staff_token(settings, 'c', ['coordinator'])}"}
    [record] = requests.get(apis["scheduler"].url + "/audit", headers=coordinator, timeout=30,
                            params={"action": "clinic.recording-confirm"}).json()["items"]
    assert record["actor"]["id"] == "staff-working_group" and record["target"]["id"] == clinic["id"]
    ambassador = signed_in(app, settings, "ambassador")
    refused = ambassador.post(f"/staff/clinics/{clinic['id']}/recording",
                              data={"csrf_token": csrf(ambassador.get("/staff/rounds")), "not_recorded": [first]})
    assert refused.status_code == 403


def test_a_translator_takes_a_request_from_the_queue_and_others_see_who_by_name(console):
    """The queue's "Take it" makes the request the translator's (the notifier records and audits
    it); another translator sees the taker's name (registry GET /staff/names), not an id."""
    from services.notifier.config import NotifierConfig
    from services.notifier.worker import build_worker
    from tests.integration.notifier.helpers import Events
    from tests.support import eventually, running

    settings, apis, app = console
    coordinator = {"Authorization": f"Bearer {issue_staff_token(settings, 'c', ['coordinator'])}"}
    tag = uuid.uuid4().hex[:6]
    added = requests.post(apis["registry"].url + "/staff", headers=coordinator, timeout=30,
                          json={"email": f"tr.{tag}@example.org", "roles": ["translator"], "name": f"Tamar {tag}"})
    assert added.status_code == 201, added.text
    taker_id = added.json()["id"]
    request_id = f"tr-{tag}"
    events = Events(settings)
    with running(build_worker(settings, NotifierConfig(digest_period_seconds=0))):
        events.publish("translation-requested", {
            "request_id": request_id, "subject_kind": "resource", "subject_id": "r-console", "language": "ar",
            "source_language": "en", "title": f"Toolkit {tag}", "url": "https://meta.example.org/Toolkit",
            "requested_by": "resources"}, source="resources")
        eventually(lambda: [r for r in requests.get(apis["notifier"].url + "/translation-requests", headers=coordinator,
                                                    timeout=30, params={"limit": 500}).json()["items"]
                            if r["id"] == request_id], timeout=60)
    events.publisher.close()

    taker = app.test_client()
    taker.set_cookie("lc_staff", issue_staff_token(settings, taker_id, ["translator"]), path="/staff")
    queue = taker.get("/staff/translations")
    assert f"/staff/translations/{request_id}/assign" in queue.get_data(as_text=True)
    taken = taker.post(f"/staff/translations/{request_id}/assign", data={"csrf_token": csrf(queue)})
    assert taken.status_code == 302
    mine = taker.get("/staff/translations").get_data(as_text=True)
    assert f'data-assigned-to="{taker_id}">You' in mine
    assert f"/staff/translations/{request_id}/assign" not in mine  # nothing to take: it is theirs

    colleague = signed_in(app, settings, "translator").get("/staff/translations").get_data(as_text=True)
    assert f'data-assigned-to="{taker_id}">Tamar {tag}' in colleague
    [record] = requests.get(apis["notifier"].url + "/audit", headers=coordinator, timeout=30,
                            params={"action": "translation-request.assign"}).json()["items"]
    assert record["actor"]["id"] == taker_id and record["after"] == {"assigned_to": taker_id}


def test_the_round_history_names_who_requested_and_ran_each_round(console):
    settings, apis, app = console
    coordinator = {"Authorization": f"Bearer {issue_staff_token(settings, 'c', ['coordinator'])}"}
    tag = uuid.uuid4().hex[:6]
    added = requests.post(apis["registry"].url + "/staff", headers=coordinator, timeout=30,
                          json={"email": f"wg.{tag}@example.org", "roles": ["working_group"], "name": f"Wafa {tag}"})
    assert added.status_code == 201, added.text
    member = app.test_client()
    member.set_cookie("lc_staff", issue_staff_token(settings, added.json()["id"], ["working_group"]), path="/staff")
    page = member.get("/staff/rounds")
    asked = member.post("/staff/rounds", data={"csrf_token": csrf(page), "mode": "preview"})
    assert asked.status_code == 302
    history = member.get("/staff/rounds").get_data(as_text=True)
    assert f"<td>Wafa {tag}</td>" in history and f"<td>{added.json()['id']}</td>" not in history


def test_a_learning_space_is_edited_and_removed_from_the_console_and_both_are_audited(console):
    settings, apis, app = console
    tag = uuid.uuid4().hex[:6]
    member = signed_in(app, settings, "working_group")
    page = member.get("/staff/spaces")
    added = member.post("/staff/spaces", data={"csrf_token": csrf(page), "title": f"Grants circle {tag}",
                                               "kind": "community_of_practice", "topic": "budget-development",
                                               "languages": ["fr"], "link": "https://meet.example.org/grants"})
    assert added.status_code == 302
    [space] = [s for s in requests.get(apis["scheduler"].url + "/spaces", timeout=30).json()["items"]
               if s["title"] == f"Grants circle {tag}"]
    listing = member.get("/staff/spaces").get_data(as_text=True)
    assert f'action="/staff/spaces/{space["id"]}/edit"' in listing and f'/staff/spaces/{space["id"]}/remove' in listing

    form = {"csrf_token": csrf(page), "languages_shown": "1", "title": f"Grants and budgets circle {tag}",
            "kind": "periodic_meeting", "languages": ["fr", "ar"], "link": space["link"], "description": ""}
    refused = member.post(f"/staff/spaces/{space['id']}/edit", data={**form, "link": "ftp://nope"})
    assert refused.status_code == 422 and "https://" in refused.get_data(as_text=True)
    saved = member.post(f"/staff/spaces/{space['id']}/edit", data=form)
    assert saved.status_code == 302
    now = requests.get(apis["scheduler"].url + f"/spaces/{space['id']}", timeout=30).json()
    assert (now["title"], now["kind"], now["languages"]) == (f"Grants and budgets circle {tag}", "periodic_meeting",
                                                              ["fr", "ar"])

    removed = member.post(f"/staff/spaces/{space['id']}/remove", data={"csrf_token": csrf(page)})
    assert removed.status_code == 302
    assert requests.get(apis["scheduler"].url + f"/spaces/{space['id']}", timeout=30).status_code == 404
    coordinator = {"Authorization": f"Bearer {issue_staff_token(settings, 'c', ['coordinator'])}"}
    records = [r for r in requests.get(apis["scheduler"].url + "/audit", headers=coordinator, timeout=30).json()["items"]
               if r["target"] == {"type": "space", "id": space["id"]}]
    assert [(r["action"], r["actor"]["id"]) for r in records] == [
        ("space.delete", "staff-working_group"), ("space.update", "staff-working_group"),
        ("space.add", "staff-working_group")]
    assert records[1]["after"]["languages"] == ["fr", "ar"] and records[0]["before"]["title"].startswith("Grants and")
    ambassador = signed_in(app, settings, "ambassador")
    assert ambassador.post(f"/staff/spaces/{space['id']}/remove",
                           data={"csrf_token": csrf(ambassador.get("/staff/rounds"))}).status_code == 403
