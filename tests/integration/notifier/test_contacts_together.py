"""A poll's participant events applied together (ContactUseCases.on_poll): each newer copy
becomes the contact, each registration gets one welcome, and a message that waited for two people
who arrive in the same poll goes out once, complete."""
from __future__ import annotations

from email import message_from_bytes
from email.policy import default

from shared.events import make_event
from shared.inbox import Inbox, apply_together
from shared.mongo import database
from services.notifier.config import NotifierConfig
from services.notifier.handlers import handlers
from services.notifier.service import NotifierService
from tests.integration.notifier.helpers import match, new_id, participant, parts


def envelope(event_type: str, data: dict, subject: str) -> dict:
    return make_event(event_type, subject, data, source="tests")


def a_match_between_strangers(settings):
    """A notifier, its handlers, and (learner, sharer, a match-confirmed between them) for two
    people it does not know yet; nothing applied."""
    db = database(settings, "notifier")
    service = NotifierService(settings, NotifierConfig(park_seconds=60), db)
    service.ensure_indexes()
    wired = handlers(service, Inbox(db, "notifier"))
    learner, sharer = new_id(), new_id()
    return service, wired, (learner, sharer, envelope("match-confirmed", match(new_id("m"), learner, sharer), "m"))


def introduction_waiting(settings):
    """As a_match_between_strangers, the match-confirmed applied (both introductions parked)."""
    service, wired, (learner, sharer, confirmed) = a_match_between_strangers(settings)
    apply_together([(wired["match-confirmed"], [confirmed])])
    return service, wired, (learner, sharer, confirmed)


def test_two_people_arriving_in_one_poll_release_what_waited_for_both_once(settings):
    service, wired, (learner, sharer, confirmed) = introduction_waiting(settings)
    assert {d["status"] for d in service.store.deliveries.find({"event_id": confirmed["id"]})} == {"parked"}

    registered = [envelope("participant-registered", participant(pid, name=name, revision=revision), pid)
                  for pid, name, revision in ((learner, "Layla", 1), (sharer, "Sami", 2))]
    renamed = envelope("participant-updated", participant(learner, name="Layla B.", revision=2), learner)
    stale = envelope("participant-updated", participant(sharer, name="Old Sami", revision=1), sharer)
    assert apply_together([(wired["participant-registered"], registered),
                           (wired["participant-updated"], [renamed, stale])]) == 4

    contacts = service.store.contacts_of([learner, sharer])
    assert contacts[learner]["name"] == "Layla B." and contacts[sharer]["name"] == "Sami"  # the newer copy
    welcomes = list(service.store.deliveries.find({"template": "welcome", "participant_id": {"$in": [learner, sharer]}}))
    assert sorted(d["participant_id"] for d in welcomes) == sorted([learner, sharer])
    intros = list(service.store.deliveries.find({"event_id": confirmed["id"]}))
    assert len(intros) == 2 and {d["status"] for d in intros} == {"queued"}  # released once, nobody missing
    texts = [parts(message_from_bytes(d["message"], policy=default))["text"] for d in intros]
    by_greeting = {text.splitlines()[0]: text for text in texts}
    assert sorted(by_greeting) == ["Hello Layla B.,", "Hello Sami,"]  # written with the poll's newest copies
    assert "- Sami (sharer)" in by_greeting["Hello Layla B.,"] and "- Layla B." in by_greeting["Hello Sami,"]


def test_a_message_released_by_one_arrival_waits_on_for_the_other_then_goes_out(settings):
    service, wired, (learner, sharer, confirmed) = introduction_waiting(settings)

    apply_together([(wired["participant-registered"],
                     [envelope("participant-registered", participant(learner, name="Layla"), learner)])])
    intros = list(service.store.deliveries.find({"event_id": confirmed["id"]}))
    assert {d["status"] for d in intros} == {"parked"}
    assert [d["awaiting"] for d in intros] == [[sharer], [sharer]]  # the learner is no longer missing

    apply_together([(wired["participant-registered"],
                     [envelope("participant-registered", participant(sharer, name="Sami"), sharer)])])
    intros = list(service.store.deliveries.find({"event_id": confirmed["id"]}))
    assert {d["status"] for d in intros} == {"queued"} and not any("awaiting" in d for d in intros)
    assert all(d["message"] and d["claim"] for d in intros)


def test_a_poll_whose_match_came_before_the_registrations_it_names_sends_without_parking(settings):
    """The partitions of one poll come in any order; the notifier lists the contact events first,
    so a match and the registrations it names in the same poll are written at once, never parked."""
    from collections import namedtuple

    from shared.bus import in_handler_order

    service, wired, (learner, sharer, confirmed) = a_match_between_strangers(settings)
    registered = [envelope("participant-registered", participant(pid, name=name), pid)
                  for pid, name in ((learner, "Layla"), (sharer, "Sami"))]
    Record = namedtuple("Record", "topic envelope")
    batches = {"match partition": [Record("match", confirmed)], "registry partition": [Record("registry", e)
                                                                                       for e in registered]}
    written = []  # the status each delivery was first stored with
    inserts = service.store.delivery_writes
    service.store.delivery_writes = lambda docs: (written.extend((d["template"], d["status"]) for d in docs),
                                                  inserts(docs))[1]

    ordered = in_handler_order(batches, {"match": "match-confirmed", "registry": "participant-registered"}, wired)
    assert apply_together([(wired[t], [r.envelope for r in records]) for t, records in ordered.items()]) == 3

    intros = list(service.store.deliveries.find({"event_id": confirmed["id"]}))
    assert len(intros) == 2 and {d["status"] for d in intros} == {"queued"}
    assert sorted(written) == [("match_introduction", "queued")] * 2 + [("welcome", "queued")] * 2
