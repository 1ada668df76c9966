"""Clinics with everyone in the room (issue 17), scheduler side, on the embedded stack: presenters told
and reminded with a place that takes no seat, interpreters asked per language and answering through
their link, the 72-hour warning once (clock injected), attendees of a missing language told,
ambassadors' proposals."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from shared.bus import Publisher, read_topic
from shared.events import make_event
from shared.pseudonyms import translator_id
from shared.tokens import issue_link_token, issue_participant_token, issue_staff_token
from services.scheduler.app import create_app
from services.scheduler.service import SchedulerService
from services.scheduler.store import Store
from services.scheduler.worker import build_worker
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running

TOPIC = "budget-development"
TRANSLATORS = {"ar": ("ar1@example.org", "ar2@example.org"), "fr": ("fr1@example.org",)}


class Clock:
    def __init__(self):
        self.now = datetime.now(timezone.utc).replace(microsecond=0)

    def __call__(self):
        return self.now


def person(pid, languages=("en",), learn=(TOPIC,), share=(), recording=True):
    return {"participant_id": pid, "revision": 1, "username": pid, "name": pid.title(), "email": f"{pid}@example.org",
            "languages": list(languages), "timezone": "Africa/Cairo", "region": "mena",
            "group": {"name": "Wikimedia Egypt", "type": "user_group"}, "role": "board", "purpose": "organising",
            "activities": [], "interests": [{"topic": t, "direction": "learn"} for t in learn]
            + [{"topic": t, "direction": "share"} for t in share],
            "consent": {"public_profile": True, "share_contact": True, "recording": recording},
            "registered_at": "2026-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers, translators=TRANSLATORS)
    clock = Clock()
    app = create_app(settings, clock)
    publisher = Publisher(settings, "test")
    with running(build_worker(settings, clock, reminder_every=3600)) as worker:
        for pid, languages in (("sharer-ar", ("ar", "en")), ("sharer-fr", ("fr", "en")), ("sharer-3", ("en",))):
            publisher.publish(make_event("participant-registered", pid, person(pid, languages, learn=(),
                                                                                share=(TOPIC,)), "registry"))
        store = Store(worker.db)
        eventually(lambda: store.people.count_documents({}) == 3)
        yield settings, app, clock, worker
    publisher.close()


def events(settings, event_type, clinic_id):
    """The events of a type about a clinic (translation requests are keyed by request, so by subject_id)."""
    found = [json.loads(r.value) for r in read_topic(settings, settings.topic_name(event_type), timeout=2)]
    return [e["data"] for e in found if clinic_id in (e["subject"], e["data"].get("subject_id"))]


def schedule(app, clock, **changes):
    start = clock.now + timedelta(days=5)
    body = {"kind": "monthly", "title": "Budgets that funders trust", "topics": [TOPIC],
            "sharers": ["sharer-ar", "sharer-fr"], "language": "en", "interpretation": ["ar", "fr"], "seats": 10,
            "slots": [{"start": start.isoformat(), "minutes": 90}], "meeting_url": "https://meet.example.org/room-17"}
    body.update(changes)
    response = app.test_client().post("/clinics", json=body, headers=STAFF_HEADERS)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def interpreter_link(settings, address, request_id):
    return auth(issue_link_token(settings, translator_id(settings, address), "interpretation.respond", request_id))


def test_presenters_interpreters_warnings_and_changes(env):
    settings, app, clock, worker = env
    client = app.test_client()
    clinic = schedule(app, clock)
    cid = clinic["id"]
    assert clinic["interpretation_status"]["ar"]["status"] == "requested"

    # Each sharer is told, with the link; their place takes no seat.
    told = eventually(lambda: len(events(settings, "presenter-scheduled", cid)) == 2
                      and events(settings, "presenter-scheduled", cid))
    assert {(d["participant_id"], d["change"]) for d in told} == {("sharer-ar", "created"), ("sharer-fr", "created")}
    assert all(d["meeting_url"] == "https://meet.example.org/room-17" and d["slots"][0]["start"] for d in told)
    presenter_token = auth(issue_participant_token(settings, "sharer-ar"))
    taken = client.post(f"/clinics/{cid}/registrations", json={"participant": "sharer-ar",
                                                               "slot": clinic["slots"][0]["id"]},
                        headers=presenter_token)
    assert taken.status_code == 409 and "you present" in taken.get_json()["message"]
    place = client.get(f"/clinics/{cid}/registrations/sharer-ar", headers=presenter_token).get_json()
    assert place["status"] == "presenter" and place["meeting_url"].endswith("room-17")
    link = auth(issue_link_token(settings, "sharer-fr", "clinic.present", cid))
    view = client.get(f"/clinics/{cid}/presenter", headers=link)
    assert view.status_code == 200 and view.get_json()["meeting_url"].endswith("room-17")
    assert view.get_json()["how_to_prepare"] and view.get_json()["upload"]["clinic"] == cid
    other = auth(issue_link_token(settings, "sharer-fr", "clinic.present", "another-clinic"))
    assert client.get(f"/clinics/{cid}/presenter", headers=other).status_code == 403
    stranger = auth(issue_link_token(settings, "attendee-x", "clinic.present", cid))
    assert client.get(f"/clinics/{cid}/presenter", headers=stranger).status_code == 403

    # The translators of each language are asked, one request per slot and language.
    asked = eventually(lambda: len(events(settings, "translation-requested", cid)) == 2
                       and events(settings, "translation-requested", cid))
    by_language = {d["language"]: d for d in asked}
    assert set(by_language) == {"ar", "fr"}
    assert all(d["kind"] == "interpretation" and d["subject_kind"] == "clinic" and d["subject_id"] == cid
               and d["minutes"] == 90 and d["start"] == clinic["slots"][0]["start"] for d in asked)
    ar_request, fr_request = by_language["ar"]["request_id"], by_language["fr"]["request_id"]

    # One Arabic interpreter accepts (and gets the link), the second is thanked; French declines.
    ar1 = interpreter_link(settings, "ar1@example.org", ar_request)
    assert client.get(f"/interpretation-requests/{ar_request}", headers=ar1).get_json()["meeting_url"] is None
    accepted = client.post(f"/interpretation-requests/{ar_request}/respond", json={"response": "accept"}, headers=ar1)
    assert accepted.status_code == 200 and accepted.get_json()["meeting_url"].endswith("room-17")
    late = client.post(f"/interpretation-requests/{ar_request}/respond", json={"response": "accept"},
                       headers=interpreter_link(settings, "ar2@example.org", ar_request))
    assert late.status_code == 409
    assert client.post(f"/interpretation-requests/{ar_request}/respond", json={"response": "accept"},
                       headers=interpreter_link(settings, "nobody@example.org", ar_request)).status_code == 403
    assert client.post(f"/interpretation-requests/{fr_request}/respond", json={"response": "accept"},
                       headers=ar1).status_code == 403  # a link is for one request
    assert client.post(f"/interpretation-requests/{ar_request}/respond", json={"response": "accept"},
                       headers=STAFF_HEADERS).status_code == 403  # staff read, interpreters answer
    declined = client.post(f"/interpretation-requests/{fr_request}/respond", json={"response": "decline"},
                           headers=interpreter_link(settings, "fr1@example.org", fr_request))
    assert declined.status_code == 200 and declined.get_json()["status"] == "missing"
    shown = client.get(f"/clinics/{cid}").get_json()["interpretation_status"]
    assert (shown["ar"]["status"], shown["fr"]["status"]) == ("confirmed", "missing")
    confirmed = eventually(lambda: events(settings, "interpreter-scheduled", cid))
    assert confirmed[0]["change"] == "confirmed" and confirmed[0]["interpreter"] == translator_id(
        settings, "ar1@example.org") and "ar1@" not in json.dumps(confirmed)
    staff_view = client.get(f"/clinics/{cid}/interpretation", headers=STAFF_HEADERS).get_json()
    assert {r["language"]: (r["asked"], r["declined"]) for r in staff_view["requests"]} == {"ar": (2, 0), "fr": (1, 1)}

    # Attendees: one chose French (missing), one Arabic (confirmed), one no interpretation.
    for pid, language in (("att-fr", "fr"), ("att-ar", "ar"), ("att-en", None)):
        response = client.post(f"/clinics/{cid}/registrations", headers=auth(issue_participant_token(settings, pid)),
                               json={"participant": pid, "slot": clinic["slots"][0]["id"], "interpretation": language})
        assert response.status_code == 201

    start = datetime.fromisoformat(clinic["slots"][0]["start"].replace("Z", "+00:00"))
    saved = clock.now
    try:
        watchers = [SchedulerService(Store(worker.db), settings, clock=clock).reminders for _ in range(2)]
        clock.now = start - timedelta(hours=73)
        assert sum(w.watch_interpretation() for w in watchers) == 0  # not yet
        clock.now = start - timedelta(hours=71)
        runs = [threading.Thread(target=w.watch_interpretation) for w in watchers + watchers]
        for run in runs:
            run.start()
        for run in runs:
            run.join()
        assert watchers[0].watch_interpretation() == 0  # once, however many workers and runs
        missing = eventually(lambda: events(settings, "interpretation-missing", cid))
        assert len(missing) == 1 and missing[0]["language"] == "fr" and missing[0]["reason"] == "all_declined"
        assert missing[0]["attendees"] == 1 and missing[0]["asked"] == 1 and missing[0]["declined"] == 1
        told = eventually(lambda: events(settings, "interpretation-unavailable", cid))
        assert [(d["participant_id"], d["interpretation"]) for d in told] == [("att-fr", "fr")]

        # A change: a presenter leaves, another joins, the slot moves; everyone concerned is told.
        later = start + timedelta(hours=2)
        changed = client.patch(f"/clinics/{cid}", headers=STAFF_HEADERS, json={
            "sharers": ["sharer-ar", "sharer-3"],
            "slots": [{"slot_id": clinic["slots"][0]["id"], "start": later.isoformat(), "minutes": 60}]})
        assert changed.status_code == 200, changed.get_json()
        presenters = eventually(lambda: len(events(settings, "presenter-scheduled", cid)) == 5
                                and events(settings, "presenter-scheduled", cid))
        assert {(d["participant_id"], d["change"]) for d in presenters[2:]} == {
            ("sharer-ar", "updated"), ("sharer-3", "created"), ("sharer-fr", "removed")}
        assert next(d for d in presenters[2:] if d["change"] == "removed")["meeting_url"] is None
        update = eventually(lambda: len(events(settings, "interpreter-scheduled", cid)) == 2
                            and events(settings, "interpreter-scheduled", cid)[1])
        assert update["change"] == "updated" and update["minutes"] == 60 and update["start"].startswith(
            later.strftime("%Y-%m-%dT%H:%M"))

        # Reminders before it: the presenters and the interpreter too.
        reminders = watchers[0]
        clock.now = later - timedelta(minutes=30)
        reminders.send()
        presenter_reminders = eventually(lambda: events(settings, "presenter-reminder", cid))
        assert {d["participant_id"] for d in presenter_reminders} == {"sharer-ar", "sharer-3"}
        assert all(d["meeting_url"].endswith("room-17") for d in presenter_reminders)
        interpreter = eventually(lambda: events(settings, "interpreter-reminder", cid))
        assert [(d["interpretation"], d["lead"]) for d in interpreter] == [("ar", "1h")]
        clock.now = saved

        assert client.delete(f"/clinics/{cid}", headers=STAFF_HEADERS).status_code == 200
        cancelled = eventually(lambda: [d for d in events(settings, "interpreter-scheduled", cid)
                                        if d["change"] == "cancelled"])
        assert cancelled and cancelled[0]["meeting_url"] is None
        assert {d["participant_id"] for d in events(settings, "presenter-scheduled", cid)
                if d["change"] == "cancelled"} == {"sharer-ar", "sharer-3"}
        assert client.post(f"/interpretation-requests/{ar_request}/respond", json={"response": "decline"},
                           headers=ar1).status_code == 409
    finally:
        clock.now = saved


def test_a_language_without_any_translator_is_missing_from_the_start(env):
    settings, app, clock, _ = env
    clinic = schedule(app, clock, interpretation=["es"], sharers=[])
    assert clinic["interpretation_status"]["es"]["status"] == "missing"
    [asked] = eventually(lambda: events(settings, "translation-requested", clinic["id"]))
    assert asked["language"] == "es"  # still listed for staff in the notifier's translation queue


def test_an_ambassador_proposes_and_the_working_group_schedules(env):
    settings, app, clock, worker = env
    client = app.test_client()
    ambassador = auth(issue_staff_token(settings, "amb-1", ["ambassador"]))
    working_group = auth(issue_staff_token(settings, "wg-1", ["working_group"]))
    start = clock.now + timedelta(days=9)
    body = {"kind": "quarterly", "region": "mena", "title": "Reporting in MENA", "topics": [TOPIC], "sharers": [],
            "language": "ar", "slots": [{"start": start.isoformat(), "minutes": 90}], "seats": 20}
    proposed = client.post("/clinics", json=body, headers=ambassador)
    assert proposed.status_code == 201 and proposed.get_json()["status"] == "proposed"
    cid = proposed.get_json()["id"]
    assert client.get(f"/clinics/{cid}").status_code == 404  # not public
    assert cid not in [c["id"] for c in client.get("/clinics").get_json()["items"]]
    assert [p["id"] for p in client.get("/clinics/proposals", headers=ambassador).get_json()["items"]] == [cid]
    assert client.get("/clinics/proposals", headers=auth(issue_participant_token(settings, "p"))).status_code == 403
    assert client.post(f"/clinics/{cid}/registrations", headers=auth(issue_participant_token(settings, "p")),
                       json={"participant": "p", "slot": proposed.get_json()["slots"][0]["id"]}).status_code == 404
    assert client.post(f"/clinics/{cid}/approve", headers=ambassador).status_code == 403
    assert client.patch(f"/clinics/{cid}", json={"title": "A new title"}, headers=ambassador).status_code == 403
    assert events(settings, "clinic-scheduled", cid) == []  # nobody was told of a proposal
    approved = client.post(f"/clinics/{cid}/approve", headers=working_group)
    assert approved.status_code == 200 and approved.get_json()["status"] == "scheduled"
    assert client.post(f"/clinics/{cid}/approve", headers=working_group).status_code == 409
    assert eventually(lambda: events(settings, "clinic-scheduled", cid))[0]["change"] == "created"
    # a regional quarterly clinic invites the region's people who understand it
    invited = eventually(lambda: events(settings, "clinic-invited", cid))
    assert {d["participant_id"] for d in invited} == {"sharer-ar"}
    assert client.post("/clinics", json={**body, "region": None}, headers=working_group).status_code == 422
