"""A poll's registrations applied together (People.on_arrivals): the same people, counters and
invitations as when each event is applied in turn, with stale events and erased people left out,
and nothing more when the poll comes again."""
from __future__ import annotations

from shared.events import make_event
from shared.inbox import Inbox, apply_together
from shared.mongo import database
from shared.pseudonyms import keyed_hash
from services.scheduler.app import create_app
from services.scheduler.handlers import handlers
from services.scheduler.service import SchedulerService
from services.scheduler.store import Store
from tests.integration.scheduler.test_clinic_lifecycle import TOPIC, Clock, person, schedule
from tests.support import namespaced_settings


def skill(pid: str, topic: str, revision: int, languages=("ar",)) -> dict:
    return {"participant_id": pid, "revision": revision, "topic": topic, "direction": "learn", "level": "beginner",
            "languages": list(languages), "timezone": "Africa/Cairo", "region": "mena", "group": None}


def poll() -> list[dict]:
    """In the order a poll hands them over: one type after another."""
    return [
        make_event("participant-registered", "amal", person("amal", languages=("ar",), learn=()), "registry"),
        make_event("participant-registered", "sami", person("sami", tz="Asia/Amman", revision=3), "registry"),
        make_event("participant-registered", "gone", person("gone"), "registry"),
        make_event("participant-updated", "sami", person("sami", tz="Europe/Paris", revision=2), "registry"),
        make_event("participant-updated", "omar", person("omar", learn=("governance",), revision=2), "registry"),
        make_event("skill-registered", "amal", skill("amal", TOPIC, 2), "registry"),
        make_event("skill-registered", "amal", skill("amal", "governance", 3), "registry"),
    ]


EARLIER = make_event("participant-registered", "omar", person("omar"), "registry")


def scheduler(servers):
    """A scheduler's store and handlers on a namespace of its own, with a clinic on TOPIC, an
    erased person and one registered before the poll."""
    settings = namespaced_settings(servers)
    clock = Clock()
    clinic = schedule(create_app(settings, clock), clock)
    store = Store(database(settings, "scheduler"))
    store.mark_erased(keyed_hash(settings, "erased", "gone"), 1, clock.now, None)
    wired = handlers(SchedulerService(store, settings, clock=clock), Inbox(store.db, "scheduler"))
    assert applied(wired, [EARLIER]) == 1
    return store, wired, clinic


def applied(wired, events: list[dict]) -> int:
    by_type: dict[str, list[dict]] = {}
    for event in events:
        by_type.setdefault(event["type"], []).append(event)
    return apply_together([(wired[event_type], batch) for event_type, batch in by_type.items()])


def state(store: Store, clinic: dict) -> dict:
    invited = [event["data"]["participant_id"] for row in store.db["outbox"].find() for event in row["events"]
               if event["type"] == "clinic-invited" and event["subject"] == clinic["id"]]
    return {"people": {p["_id"]: p for p in store.people.find()},
            "topics": {c["_id"]: c for c in store.topic_demand.find()},
            "regions": {c["_id"]: c for c in store.region_demand.find()},
            "invitations": sorted(i["participant_id"] for i in store.invitations.find({"clinic_id": clinic["id"]})),
            "invited events": sorted(invited),
            "known topics": sorted(t["_id"] for t in store.known_topics.collection.find())}


def test_a_polls_registrations_together_leave_what_they_leave_in_turn(servers):
    events = poll()
    together, wired, clinic = scheduler(servers)
    assert applied(wired, events) == 7
    after = state(together, clinic)

    amal, sami = after["people"]["amal"], after["people"]["sami"]
    assert (amal["revision"], amal["learn"]) == (3, sorted([TOPIC, "governance"]))
    assert (sami["revision"], sami["timezone"]) == (3, "Asia/Amman")  # the older update came late: ignored
    assert "gone" not in after["people"]
    assert after["topics"][TOPIC]["learners"] == 2 and after["topics"][TOPIC]["waiting"] == 2  # omar left it
    assert after["topics"]["governance"]["learners"] == 2 and after["regions"]["mena"]["people"] == 3
    assert after["invitations"] == after["invited events"] == ["amal", "omar", "sami"]  # omar before the poll

    in_turn, wired_in_turn, other_clinic = scheduler(servers)
    for event in events:
        applied(wired_in_turn, [event])
    expected = state(in_turn, other_clinic)
    assert after["people"] == expected["people"] and after["invitations"] == expected["invitations"]
    assert after["topics"] == expected["topics"] and after["regions"] == expected["regions"]
    assert after["known topics"] == expected["known topics"]

    assert applied(wired, events) == 0  # the same poll again: nothing applied, nothing moved
    assert state(together, clinic) == after
