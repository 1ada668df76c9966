"""A poll's new learners proposed together (MatcherService.propose_for_learners): what they need is
read once for all of them, and their proposals are one write, each conditional on what was read or
proposed before it; when a condition fails, nothing of it is written and each learner is decided in
turn, each proposal its own write (a learner joining a connection: Store.join_one)."""
from __future__ import annotations

import pytest

from shared.mongo import database, in_transaction
from services.matcher.config import MatcherConfig
from services.matcher.domain.candidates import Edge
from services.matcher.domain.matches import claim_key, interest_id
from services.matcher.domain.rules import MAX_PEOPLE
from services.matcher.service import MatcherService
from services.matcher.store import Store
from tests.integration.matcher.helpers import Clock, skill

TIMEZONES = ("Africa/Cairo", "Asia/Amman", "Africa/Tunis", "Asia/Riyadh", "Africa/Casablanca", "Asia/Baghdad",
             "Europe/Istanbul", "Asia/Dubai")


@pytest.fixture
def service(settings):
    store = Store(database(settings, "matcher"))
    store.ensure_indexes()
    return MatcherService(store, MatcherConfig(sharer_capacity=3), Clock())


def put(service: MatcherService, data: dict) -> str:
    in_transaction(service.store.db, lambda session: service.apply_skill(session, data))
    return interest_id(data)


def events(service: MatcherService, kind: str) -> list[dict]:
    return [e for row in service.store.outbox.collection.find() for e in row["events"] if e["type"] == kind]


def test_eight_learners_of_one_poll_fill_each_connection_before_the_sharer_opens_another(service):
    put(service, skill("amina", "fundraising", "share", tz="Asia/Amman"))
    learners = [put(service, skill(f"learner-{i}", "fundraising", "learn", tz=TIMEZONES[i])) for i in range(8)]

    made = service.propose_for_learners(learners)

    connections = {match["_id"]: match for match in service.store.open_connections()}
    assert len(connections) == 3  # 3 + 3 + 2 learners, not one connection each
    placed = sorted(p["id"] for m in connections.values() for p in m["participants"] if p["role"] == "learner")
    assert placed == sorted(f"learner-{i}" for i in range(8))
    assert all(len(m["participants"]) <= MAX_PEOPLE for m in connections.values())
    assert service.store.loads_of(["amina"])["amina"]["open"] == 3
    assert len(made) == 8 and all(service.store.has_claim(f"learner-{i}:fundraising") for i in range(8))
    assert len(events(service, "match-proposed")) == 3 and len(events(service, "match-joined")) == 5
    # proposed already: the same poll delivered again proposes nothing more
    assert service.propose_for_learners(learners) == []
    assert len(service.store.open_connections()) == 3


def test_a_connection_answered_after_it_was_read_is_joined_without_losing_the_answer(service):
    put(service, skill("amina", "fundraising", "share", tz="Asia/Amman"))
    first = service.propose_for_learner(put(service, skill("first", "fundraising", "learn")))
    second = put(service, skill("second", "fundraising", "learn", tz="Africa/Tunis"))
    [learner] = service.store.waiting_learners([second])
    around = service.incremental.surroundings([learner])
    # the sharer accepts between the read and the join: the join as read must not write over it
    answered = [{**p, "response": "accept"} if p["role"] == "sharer" else p for p in first["participants"]]
    service.store.update_match(first["_id"], {"participants": answered})

    joined = service.incremental._propose(learner, around)

    stored = service.store.match(first["_id"])
    assert joined is not None and joined["_id"] == first["_id"]
    assert {p["id"]: p["response"] for p in stored["participants"]} == {"amina": "accept", "first": None,
                                                                        "second": None}
    assert len(events(service, "match-joined")) == 1


def test_a_join_on_a_connection_that_changed_or_a_learner_claimed_meanwhile_writes_nothing(service):
    store = service.store
    put(service, skill("amina", "fundraising", "share", tz="Asia/Amman"))
    first = service.propose_for_learner(put(service, skill("first", "fundraising", "learn")))
    [learner] = store.waiting_learners([put(service, skill("second", "fundraising", "learn"))])
    edge = Edge(learner, store.candidate("amina:fundraising:share"), 0.8, first["language"])

    store.claim([(claim_key(learner), "another-match")])
    assert service.incremental.join_one(first, edge) is None
    store.release_claim(claim_key(learner), "another-match")
    answered = [{**p, "response": "decline"} if p["id"] == "first" else p for p in first["participants"]]
    store.update_match(first["_id"], {"participants": answered})
    assert service.incremental.join_one(first, edge) is None

    assert [p["id"] for p in store.match(first["_id"])["participants"]] == ["amina", "first"]
    assert not store.has_claim(claim_key(learner)) and events(service, "match-joined") == []
    assert service.incremental.join_one(store.match(first["_id"]), edge)["_id"] == first["_id"]  # as it is now
    assert store.has_claim(claim_key(learner)) and len(events(service, "match-joined")) == 1


def test_a_new_sharer_takes_the_learners_who_waited_longest_in_one_pass(service):
    learners = [put(service, skill(f"waiting-{i}", "fundraising", "learn", tz=TIMEZONES[i],
                                   registered_at=f"2026-11-0{i + 1}T10:00:00Z")) for i in range(5)]
    assert service.propose_for_learners(learners) == []  # nobody shares the topic yet
    sharer = put(service, skill("amina", "fundraising", "share", tz="Asia/Amman"))

    made = service.propose_for_sharer(sharer, tries=4)

    placed = sorted(p["id"] for m in service.store.open_connections() for p in m["participants"] if p["role"] == "learner")
    assert placed == [f"waiting-{i}" for i in range(4)]  # the four who waited longest, the fifth next time
    assert len(service.store.open_connections()) == 2 and len(made) == 4  # three join one connection


def test_a_poll_planned_on_a_connection_that_changed_meanwhile_writes_nothing_then_places_everyone(service):
    store = service.store
    put(service, skill("amina", "fundraising", "share", tz="Asia/Amman"))
    first = service.propose_for_learner(put(service, skill("first", "fundraising", "learn")))
    ids = [put(service, skill(f"learner-{i}", "fundraising", "learn", tz=TIMEZONES[i])) for i in range(4)]
    learners = store.waiting_learners(ids)
    around = service.incremental.surroundings(learners)
    # the sharer accepts after the poll's read: the plan joins the connection as read, so none of it may land
    answered = [{**p, "response": "accept"} if p["role"] == "sharer" else p for p in first["participants"]]
    store.update_match(first["_id"], {"participants": answered})

    assert service.incremental._together(learners, around) is None
    assert not any(store.has_claim(claim_key(learner)) for learner in learners)
    assert events(service, "match-joined") == [] and len(events(service, "match-proposed")) == 1
    assert store.loads_of(["amina"])["amina"]["open"] == 1

    made = service.propose_for_learners(ids)  # a fresh read: the answer is kept, everyone placed

    assert len(made) == 4 and all(store.has_claim(claim_key(learner)) for learner in learners)
    assert {p["id"]: p["response"] for p in store.match(first["_id"])["participants"]}["amina"] == "accept"
    placed = sorted(p["id"] for m in store.open_connections() for p in m["participants"] if p["role"] == "learner")
    assert placed == sorted(["first"] + [f"learner-{i}" for i in range(4)])
    assert len(events(service, "match-joined")) + len(events(service, "match-proposed")) == 5


def test_a_poll_whose_sharer_is_new_writes_the_load_and_every_proposal_in_one_go(service):
    store = service.store
    put(service, skill("amina", "fundraising", "share", tz="Asia/Amman"))
    put(service, skill("bilal", "fundraising", "share", tz="Africa/Cairo"))
    ids = [put(service, skill(f"learner-{i}", "fundraising", "learn", tz=TIMEZONES[i])) for i in range(4)]
    assert store.loads_of(["amina", "bilal"]) == {}  # neither has a connection yet

    made = service.propose_for_learners(ids)

    assert len(made) == 4
    loads = {person: doc["open"] for person, doc in store.loads_of(["amina", "bilal"]).items()}
    connections = store.open_connections()
    assert sum(loads.values()) == len(connections) == len({m["_id"] for m in made})
    assert sorted(p["id"] for m in connections for p in m["participants"] if p["role"] == "learner") == \
        [f"learner-{i}" for i in range(4)]
