"""A one-learner proposal in one bulk write (Store.reserve_one): all of it or, when the sharer's
load moved or the learner was claimed meanwhile, none of it."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from shared.mongo import database
from services.matcher.domain.candidates import Edge
from services.matcher.domain.matches import claim_key, event_data, new_match
from services.matcher.store import Store
from tests.integration.matcher.helpers import skill


@pytest.fixture
def store(settings):
    store = Store(database(settings, "matcher"))
    store.ensure_indexes()
    return store


def proposal(sharer_id: str) -> tuple[dict, str, list]:
    learner = skill(f"learner-{uuid.uuid4().hex[:8]}", "fundraising", "learn")
    edge = Edge(learner, skill(sharer_id, "fundraising", "share"), 0.8, "ar")
    match = new_match(uuid.uuid4().hex, edge.sharer, [edge], "ar", None, datetime.now(timezone.utc), 14)
    return match, claim_key(learner), [("match-proposed", event_data(match))]


def written(store: Store, match: dict, claim: str) -> dict:
    return {"match": store.match(match["_id"]) is not None, "claim": store.has_claim(claim),
            "events": store.outbox.collection.count_documents({"events.data.match_id": match["_id"]})}


def test_a_reservation_on_the_load_as_read_writes_the_match_its_claim_its_event_and_the_load(store):
    sharer = f"sharer-{uuid.uuid4().hex[:8]}"
    store.ensure_loads([sharer])
    match, claim, events = proposal(sharer)
    assert store.reserve_one(match, sharer, (0, None), claim, events) is True
    assert written(store, match, claim) == {"match": True, "claim": True, "events": 1}
    assert store.loads_of([sharer])[sharer]["open"] == 1


def test_a_load_that_moved_meanwhile_writes_nothing(store):
    sharer = f"sharer-{uuid.uuid4().hex[:8]}"
    store.ensure_loads([sharer])
    store.add_load(sharer)  # another proposal took a connection since the load was read as 0
    match, claim, events = proposal(sharer)
    assert store.reserve_one(match, sharer, (0, None), claim, events) is False
    assert written(store, match, claim) == {"match": False, "claim": False, "events": 0}
    assert store.loads_of([sharer])[sharer]["open"] == 1


def test_a_capacity_changed_meanwhile_writes_nothing(store):
    sharer = f"sharer-{uuid.uuid4().hex[:8]}"
    store.set_capacity(sharer, 1)  # read as "no capacity of their own", then lowered to one
    match, claim, events = proposal(sharer)
    assert store.reserve_one(match, sharer, (0, None), claim, events) is False
    assert store.reserve_one(match, sharer, (0, 1), claim, events) is True


def test_a_learner_claimed_meanwhile_writes_nothing_and_leaves_the_load(store):
    sharer = f"sharer-{uuid.uuid4().hex[:8]}"
    store.ensure_loads([sharer])
    match, claim, events = proposal(sharer)
    store.claim([(claim, "another-match")])
    assert store.reserve_one(match, sharer, (0, None), claim, events) is False
    assert store.match(match["_id"]) is None
    assert store.outbox.collection.count_documents({"events.data.match_id": match["_id"]}) == 0
    assert store.loads_of([sharer])[sharer]["open"] == 0
