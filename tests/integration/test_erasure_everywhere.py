"""Erasure leaves nothing anywhere (issue 12, item 8), across all five services at once.

A person registers with unique markers in their username, name, email, group and the note about
themselves, and goes through every service: a match with a partner (accepted by both, an outcome
summary they wrote), a clinic seat, attendance and feedback in their words, mail preferences and
the notifier's messages to them, a resource they published and a translation they proposed. They
erase themselves; once every service has applied the withdrawal, every document of every collection
of every service's database (state, inbox, outbox, the retained outbox log, the notifier's
deliveries, token subjects, rate-limit counters) is scanned for the markers and the raw id. And
without a token, no participant route of any service tells the erased id from a live or unknown one.

The documented exceptions (docs/security.md): the `authors` text of a resource they published
stays, as its open licence requires (the link to their account goes); the withdrawal event itself
(their id, a revision and a time: nothing else) stays in the registry's retained outbox log for as
long as the topic keeps it, so a broker that lost it is told again.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from shared.config import SERVICES
from shared.mongo import database
from tests.integration.registry.test_registry_api import body
from tests.support import STAFF_HEADERS, auth, erasure_exceptions, eventually, namespaced_settings, running

TOPIC = "budget-development"
MARKERS = {
    "username": "Qzxeraseuser",
    "name": "Qzxerasename",
    "email": "qzx-erase-mail@example.org",
    "group": "Qzxerasegroup",
    "note": "qzxerasenote about myself",
    "summary": "qzxerasesummary of our call",
    "feedback": "qzxerasefeedback in my words",
}


@pytest.fixture(scope="module")
def platform(servers):
    import importlib

    settings = namespaced_settings(servers)
    apps = {name: importlib.import_module(f"services.{name}.app").create_app(settings).test_client()
            for name in SERVICES}
    workers = [importlib.import_module(f"services.{name}.worker").build_worker(settings) for name in SERVICES]
    with running(*workers):
        yield settings, apps


def scan(settings, leave_out=lambda service, collection, doc: doc) -> str:
    """Every document of every collection of every service's database, as text."""
    texts = []
    for service in SERVICES:
        db = database(settings, service)
        for collection in db.list_collection_names():
            for doc in db[collection].find():
                texts.append(f"{service}.{collection}: "
                             + json.dumps(leave_out(service, collection, doc), default=str, ensure_ascii=False))
    return "\n".join(texts)


def applied_everywhere(settings, event_type: str) -> bool:
    return all(database(settings, name)["inbox"].find_one({"type": event_type})
               for name in ("matcher", "scheduler", "notifier", "resources"))


def test_after_erasure_no_database_of_any_service_holds_the_person(platform):
    settings, apps = platform
    registry, matcher, scheduler, notifier, resources = (apps[name] for name in SERVICES)
    person = registry.post("/participants", json=body(
        MARKERS["username"], name=MARKERS["name"], email=MARKERS["email"], languages=["en"],
        group={"name": MARKERS["group"], "type": "user_group"},
        interests=[{"topic": TOPIC, "direction": "learn", "note": MARKERS["note"]}]))
    assert person.status_code == 201, person.get_json()
    pid, token = person.get_json()["id"], person.get_json()["token"]
    partner = registry.post("/participants", json=body(
        "Partner Example", name="Partner", email="partner@example.org", languages=["en"],
        interests=[{"topic": TOPIC, "direction": "share"}])).get_json()
    mine, theirs = auth(token), auth(partner["token"])

    # the matcher: proposed, accepted by both, an outcome in the person's words
    def my_matches():
        return matcher.get(f"/matches?participant={pid}", headers=STAFF_HEADERS).get_json()["items"]

    [match] = eventually(my_matches, timeout=40, message="no match proposed")
    for who, headers in ((pid, mine), (partner["id"], theirs)):
        answered = matcher.post(f"/matches/{match['id']}/respond", headers=headers,
                                json={"participant": who, "response": "accept"})
        assert answered.status_code == 200, answered.get_json()
    outcome = matcher.post(f"/matches/{match['id']}/outcome", headers=mine,
                           json={"participant": pid, "summary": MARKERS["summary"]})
    assert outcome.status_code == 200, outcome.get_json()

    # the scheduler: a seat, attendance, feedback in their words
    start = (datetime.now(timezone.utc) + timedelta(days=4)).replace(microsecond=0)
    clinic = scheduler.post("/clinics", headers=STAFF_HEADERS, json={
        "kind": "monthly", "title": "Budgets, step by step", "topics": [TOPIC], "language": "en", "seats": 5,
        "slots": [{"start": start.isoformat(), "minutes": 90}], "meeting_url": "https://meet.example.org/erase"})
    assert clinic.status_code == 201, clinic.get_json()
    clinic = clinic.get_json()
    seat = eventually(lambda: (lambda r: r if r.status_code == 201 else None)(scheduler.post(
        f"/clinics/{clinic['id']}/registrations", headers=mine,
        json={"participant": pid, "slot": clinic["slots"][0]["id"]})), message="no seat")
    assert seat.status_code == 201
    completed = scheduler.post(f"/clinics/{clinic['id']}/complete", headers=STAFF_HEADERS, json={"attendees": [pid]})
    assert completed.status_code == 200, completed.get_json()
    feedback = scheduler.post(f"/clinics/{clinic['id']}/feedback", headers=mine, json={
        "participant": pid, "useful": True, "rating": 5, "comment": MARKERS["feedback"],
        "what_was_useful": MARKERS["feedback"], "what_to_improve": MARKERS["feedback"]})
    assert feedback.status_code == 201, feedback.get_json()

    # the notifier: their preferences, and the messages it sent them
    assert notifier.put(f"/preferences/{pid}", headers=mine, json={"resources": "immediate"}).status_code == 200
    eventually(lambda: notifier.get(f"/notifications?participant={pid}", headers=STAFF_HEADERS).get_json()["items"],
               message="the notifier never wrote to them")

    # resources: one they published, one translation they proposed of someone else's
    owned = resources.post("/resources", headers=mine, json={
        "title": "Budgets by a leaver", "kind": "deck", "url": "https://commons.example.org/leaver.pdf",
        "language": "en", "topics": [TOPIC], "authors": [MARKERS["name"]], "license": "CC-BY-SA-4.0"})
    assert owned.status_code == 201, owned.get_json()
    owned = owned.get_json()
    other = resources.post("/resources", headers=STAFF_HEADERS, json={
        "title": "Someone else's deck", "kind": "deck", "url": "https://commons.example.org/other.pdf",
        "language": "en", "topics": [TOPIC], "license": "CC-BY-SA-4.0"}).get_json()
    assert resources.post(f"/resources/{other['id']}/translations", headers=mine, json={
        "language": "ar", "title": "ترجمة", "url": "https://commons.example.org/other-ar.pdf"}).status_code == 202

    before = scan(settings).lower()
    seen = [key for key, marker in MARKERS.items() if marker.lower() in before]
    assert pid in before and {"name", "email", "summary", "feedback"} <= set(seen), seen  # the scan sees them

    assert registry.delete(f"/participants/{pid}", headers=mine).status_code == 204
    eventually(lambda: applied_everywhere(settings, "participant-withdrawn"), timeout=40,
               message="a service never applied the withdrawal")
    eventually(lambda: all(database(settings, name).outbox.count_documents({}) == 0 for name in SERVICES),
               message="an outbox was never drained")

    def traces() -> list[str]:
        return [line for line in scan(settings, erasure_exceptions).splitlines()
                if pid in line or any(marker.lower() in line.lower() for marker in MARKERS.values())]

    remaining: list[str] = []

    def nothing_left() -> bool:  # the last worker may still be applying the withdrawal
        remaining[:] = traces()
        return not remaining

    try:
        eventually(nothing_left, timeout=30)
    except AssertionError:
        pytest.fail("still stored after erasure:\n" + "\n".join(line[:400] for line in remaining[:20]))
    assert resources.get(f"/resources/{owned['id']}").get_json()["authors"] == [MARKERS["name"]]

    # a stranger (no token) cannot tell the erased id from a live or an unknown one, in any service
    routes = [(registry, "get", "/participants/{}"), (registry, "patch", "/participants/{}"),
              (registry, "delete", "/participants/{}"), (registry, "post", "/participants/{}/token"),
              (notifier, "get", "/preferences/{}"), (notifier, "put", "/preferences/{}"),
              (matcher, "get", "/matches?participant={}"), (matcher, "put", "/sharers/{}/capacity"),
              (scheduler, "get", "/participants/{}/calendar.ics"), (scheduler, "post", "/participants/{}/calendar-feed"),
              (scheduler, "get", f"/clinics/{clinic['id']}/registrations/{{}}")]
    for client, method, path in routes:
        answers = {who: getattr(client, method)(path.format(who), json={}).status_code
                   for who in (pid, partner["id"], "0" * 32)}
        assert len(set(answers.values())) == 1 and answers[pid] != 410, (method, path, answers)
