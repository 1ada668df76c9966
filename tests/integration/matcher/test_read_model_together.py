"""A poll's registry events applied to the matcher's read model together (apply_skills,
apply_participant_states): the same state as one at a time, in a few statements."""
from __future__ import annotations

import pytest

from shared.mongo import database, in_transaction
from services.matcher.config import MatcherConfig
from services.matcher.service import MatcherService
from services.matcher.store import Store
from tests.integration.matcher.helpers import Clock, skill


@pytest.fixture
def service(settings):
    store = Store(database(settings, "matcher"))
    store.ensure_indexes()
    return MatcherService(store, MatcherConfig(), Clock())


def together(service: MatcherService, apply, datas: list[dict]) -> None:
    in_transaction(service.store.db, lambda session: apply(session, datas))


def test_a_poll_of_interests_keeps_each_newest_copy_and_nothing_of_an_erased_person(service):
    store = service.store
    in_transaction(store.db, lambda session: service.apply_participant_withdrawn(
        session, {"participant_id": "gone", "revision": 1}))
    together(service, service.apply_skills, [
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
    together(service, service.apply_participant_states, [
        {"participant_id": "amina", "revision": 2}, {"participant_id": "amina", "revision": 1},
        {"participant_id": "omar", "revision": 1}])
    together(service, service.apply_participant_states, [{"participant_id": "omar", "revision": 4},
                                                         {"participant_id": "amina", "revision": 1}])
    assert service.store.person("amina")["state_revision"] == 2
    assert service.store.person("omar")["state_revision"] == 4
