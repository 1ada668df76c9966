"""The whole program, end to end: the demo drives the running stack over HTTP, then the test
checks across services what each one stored against the report and the program's rules."""
from __future__ import annotations

import mailbox
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from pymongo import MongoClient

from letsconnect.client import Platform
from letsconnect.demo import run_demo
from letsconnect.report import build
from services.matcher.domain.rules import common_languages, different_groups, overlap
from shared.config import Settings
from tests.e2e.conftest import STAFF
from tests.support import eventually


@pytest.fixture(scope="module")
def demo(stack):
    settings = Settings(ports=dict(stack.ports), staff_tokens=(STAFF,), data_dir=str(stack.data_dir))
    platform = Platform.from_settings(settings)
    platform.wait_ready()
    mongo = MongoClient(f"mongodb://127.0.0.1:{stack.env['LC_MONGO_PORT']}/?directConnection=true")
    # The stack is shared with tests/browser, which may have registered people before the demo runs.
    before = db(mongo, "registry").participants.count_documents({})
    held_before = platform.stats("scheduler").get("clinics_held", 0)  # the console's browser test holds one
    result = run_demo(platform, settings, participants=80, seed=7)
    result.registered_before = before
    result.clinics_held_before = held_before
    yield platform, result, mongo, stack
    mongo.close()


def db(mongo, service):
    return mongo[f"letsconnect_{service}"]


def settled(platform, mongo):
    """Wait until every event has been applied and every message sent."""
    def quiet():
        backlog = sum(db(mongo, s).outbox.count_documents({}) for s in platform.urls)
        queued = db(mongo, "notifier").deliveries.count_documents({"status": {"$in": ["queued", "sending"]}})
        return backlog == 0 and queued == 0
    eventually(quiet, timeout=90, interval=1, message="the stack did not settle")


def test_report_numbers_agree_with_what_each_service_stored(demo):
    platform, result, mongo, _ = demo
    settled(platform, mongo)
    report = build({service: platform.stats(service) for service in platform.urls})
    assert report["registrations"] == db(mongo, "registry").participants.count_documents({}) \
        == result.registered_before + len(result.registered) - len(result.withdrawn)
    assert result.refused > 0
    matches = db(mongo, "matcher").matches
    assert report["connections"] == matches.count_documents({"status": {"$in": ["confirmed", "completed"]}}) > 0
    assert report["connections_completed"] == matches.count_documents({"status": "completed"}) > 0
    assert report["clinics_held"] == result.clinics_held_before + len(result.clinics) and len(result.clinics) == 3
    assert report["resources"] == db(mongo, "resources").resources.count_documents({}) >= 3
    assert report["top_learn"] and report["top_learn"][0] in {
        "organisation-strategy", "query-tools", "learning-evaluation-plans", "social-media-press",
        "volunteer-management"}


def test_no_connection_breaks_a_hard_rule(demo):
    platform, result, mongo, _ = demo
    people = {p.id: p.body for p in result.registered}
    checked = 0
    for match in db(mongo, "matcher").matches.find():
        members = [m for m in match["participants"] if m["id"] in people]
        assert len(match["participants"]) <= 4
        sharer = next(m for m in match["participants"] if m["role"] == "sharer")
        if sharer["id"] not in people:
            continue
        s = people[sharer["id"]]
        for member in members:
            if member["role"] != "learner":
                continue
            learner = people[member["id"]]
            assert match["language"] in learner["languages"] and match["language"] in s["languages"]
            assert common_languages(learner, s)
            assert different_groups(learner, s)
            assert overlap(learner["timezone"], s["timezone"], date(2026, 12, 2))[0] >= 60
            checked += 1
    assert checked > 0
    loads = Counter(next(m["id"] for m in match["participants"] if m["role"] == "sharer")
                    for match in db(mongo, "matcher").matches.find({"status": {"$in": ["proposed", "confirmed"]}}))
    assert all(count <= 3 for count in loads.values())


def test_no_clinic_slot_is_overbooked(demo):
    _, result, mongo, _ = demo
    registrations = db(mongo, "scheduler").registrations
    for clinic in result.clinics:
        for slot in clinic["slots"]:
            confirmed = registrations.count_documents({"slot_id": slot["id"], "status": "confirmed"})
            assert confirmed <= slot["seats"]


# the languages the seat confirmation is written in (services/notifier/templates/clinic_confirmed.<lang>.txt)
WRITTEN_IN = {path.name.split(".")[1] for path in
              (Path(__file__).resolve().parents[2] / "services/notifier/templates").glob("clinic_confirmed.*.txt")}


def test_every_confirmed_participant_got_their_messages_in_their_language_exactly_once(demo):
    platform, result, mongo, stack = demo
    settled(platform, mongo)
    deliveries = db(mongo, "notifier").deliveries
    people = {p.id: p.body for p in result.registered if p.id not in result.withdrawn}
    confirmed = list(db(mongo, "scheduler").registrations.find({"status": "confirmed"}))
    assert confirmed
    for registration in confirmed:
        pid = registration["participant_id"]
        if pid not in people:
            continue
        sent = list(deliveries.find({"participant_id": pid, "template": "clinic_confirmed",
                                     "event_type": "clinic-registration-changed", "status": "sent"}))
        per_clinic = Counter(d.get("subject_id") or d["event_id"] for d in sent)
        assert sent and all(n == 1 for n in per_clinic.values())
        assert all(d["language"] in people[pid]["languages"] + ["en"] for d in sent)
        first_with_template = sent[0]["language"]
        assert first_with_template == next((lang for lang in people[pid]["languages"]
                                            if lang in WRITTEN_IN), "en")
    box = mailbox.Maildir(str(stack.maildir), create=False)
    ids = Counter(box.get_message(key)["Message-ID"] for key in box.keys())
    assert ids and max(ids.values()) == 1  # no message delivered twice


def test_an_erased_participant_left_no_personal_data_anywhere(demo):
    platform, result, mongo, _ = demo
    settled(platform, mongo)
    [gone] = result.withdrawn
    body = next(p.body for p in result.registered if p.id == gone)

    def nothing_left():
        for name in mongo.list_database_names():
            if not name.startswith("letsconnect_"):
                continue
            for collection in mongo[name].list_collection_names():
                if collection in ("inbox", "outbox"):
                    continue
                if mongo[name][collection].find_one({"$or": [{"email": body["email"]}, {"name": body["name"]},
                                                             {"username": body["username"]}]}):
                    return False
        return True

    eventually(nothing_left, timeout=30, message="personal data of the erased participant remains")
    assert platform.call("GET", "registry", f"/participants/{gone}", staff=True, expect=(410,)).status_code == 410
    directory = platform.json("GET", "registry", "/directory?limit=200")["items"]
    assert all(item["id"] != gone for item in directory)


def test_the_demo_runs_again_on_a_stack_that_holds_data_and_reports_its_own_figures(demo):
    # issue 12, item 10: a second run with the same seed used to stop on a 409 (usernames taken)
    platform, first, mongo, stack = demo
    settings = Settings(ports=dict(stack.ports), staff_tokens=(STAFF,), data_dir=str(stack.data_dir))
    registered_before = db(mongo, "registry").participants.count_documents({})
    again = run_demo(platform, settings, participants=16, seed=7)
    assert again.run != first.run
    own = {p.id for p in again.registered}
    assert own and not own & {p.id for p in first.registered}
    assert len(again.withdrawn) == 1 and again.withdrawn[0] in own
    settled(platform, mongo)
    # its own figures: the people it registered, not the platform's
    assert db(mongo, "registry").participants.count_documents({}) >= registered_before + len(own) - 1
    assert again.summary()[1].startswith(f"  {len(own)} registered")
    assert platform.call("GET", "registry", f"/participants/{again.withdrawn[0]}", staff=True,
                         expect=(410,)).status_code == 410
