"""A poll's registry events applied to the matcher's read model together (apply_arrivals, and the
worker's one handler for participant-registered, -updated and skill-registered): the same state as
one at a time, in a few statements."""
from __future__ import annotations

import pytest

from shared.events import make_event
from shared.inbox import Inbox, apply_together
from shared.mongo import database, in_transaction
from shared.tokens import PARTICIPANT
from shared.token_subjects import TokenSubjects
from services.matcher.handlers import handlers
from services.matcher.config import MatcherConfig
from services.matcher.service import MatcherService
from services.matcher.store import Store
from tests.integration.matcher.helpers import Clock, skill


@pytest.fixture
def service(settings):
    store = Store(database(settings, "matcher"))
    store.ensure_indexes()
    return MatcherService(store, MatcherConfig(), Clock())


def participant(pid: str, revision: int = 1) -> dict:
    return {
        "participant_id": pid, "revision": revision, "username": f"User {pid}", "name": pid.title(),
        "email": f"{pid}@example.org", "languages": ["ar", "en"], "timezone": "Africa/Cairo", "region": "mena",
        "group": {"name": "Wikimedia Egypt", "type": "user_group"}, "role": "board", "purpose": "organising",
        "activities": ["training"], "interests": [{"topic": "fundraising", "direction": "learn"}],
        "consent": {"public_profile": True, "share_contact": True, "recording": False},
        "registered_at": "2026-11-24T10:00:00Z",
    }


def together(service: MatcherService, states: list[dict], skills: list[dict]) -> None:
    in_transaction(service.store.db, lambda session: service.apply_arrivals(session, states, skills))


def test_a_poll_of_interests_keeps_each_newest_copy_and_nothing_of_an_erased_person(service):
    store = service.store
    in_transaction(store.db, lambda session: service.apply_participant_withdrawn(
        session, {"participant_id": "gone", "revision": 1}))
    together(service, [], [
        skill("amina", "fundraising", "share", revision=3, languages=("ar",)),
        skill("amina", "fundraising", "share", revision=2, languages=("fr",)),  # older, arrived later
        skill("amina", "governance", "learn", revision=3),
        skill("gone", "fundraising", "learn", revision=5),  # withdrew: a late copy stores nothing
        skill("omar", "fundraising", "learn", revision=1, languages=("en",)),
        skill("omar", "fundraising", "learn", revision=2, languages=("ar", "en")),
    ])
    assert store.candidate("amina:fundraising:share")["languages"] == ["ar"]
    assert store.candidate("amina:governance:learn") is not None
    assert store.candidate("omar:fundraising:learn")["languages"] == ["ar", "en"]
    assert store.candidate("gone:fundraising:learn") is None and store.person("gone") == {}
    assert store.person("amina")["revision"] == 3 and store.person("omar")["revision"] == 2


def test_a_poll_of_participant_events_keeps_each_persons_newest_state_revision(service):
    together(service, [{"participant_id": "amina", "revision": 2}, {"participant_id": "amina", "revision": 1},
                       {"participant_id": "omar", "revision": 1}], [])
    together(service, [{"participant_id": "omar", "revision": 4}, {"participant_id": "amina", "revision": 1}], [])
    assert service.store.person("amina")["state_revision"] == 2
    assert service.store.person("omar")["state_revision"] == 4


def test_a_registration_and_a_late_update_in_one_poll_update_people_interests_and_tokens(service):
    """The worker's one handler for participant-registered, -updated and skill-registered: a poll
    that holds them all (and a withdrawn person's late copy) applies each as if alone."""
    store = service.store
    in_transaction(store.db, lambda session: service.apply_participant_withdrawn(
        session, {"participant_id": "gone", "revision": 1}))
    wired = handlers(service, Inbox(store.db, "matcher"))

    def registry_event(event_type: str, data: dict) -> dict:
        return make_event(event_type, data["participant_id"], data, source="tests")

    registered = [registry_event("participant-registered", participant(pid)) for pid in ("layla", "gone")]
    updated = registry_event("participant-updated", {**participant("layla", revision=3),
                                                     "tokens_valid_after": "2026-11-25T10:00:00Z"})
    skills = [registry_event("skill-registered", skill("layla", "fundraising", "learn", revision=2)),
              registry_event("skill-registered", skill("gone", "fundraising", "learn", revision=2))]
    assert apply_together([(wired["participant-registered"], registered), (wired["skill-registered"], skills),
                           (wired["participant-updated"], [updated])]) == 5

    layla = store.person("layla")
    assert layla["state_revision"] == 3 and layla["revision"] == 2
    assert store.candidate("layla:fundraising:learn")["direction"] == "learn"
    assert store.candidate("gone:fundraising:learn") is None and store.person("gone") == {}
    reissued = TokenSubjects(store.db).lookup(PARTICIPANT, "layla")
    assert reissued is not None and reissued.valid_after is not None  # the update's reissue counts here too
