"""The matcher's decisions without a database: capacity, decline and cooldown blocks, answers,
expiry, who looks again, which sharers an incremental proposal tries, which copy of an interest counts."""
from datetime import datetime, timedelta, timezone

import pytest

from services.matcher.domain import blocks, capacity, incremental, read_model, responses
from services.matcher.domain.candidates import Edge
from services.matcher.domain.errors import Forbidden, MatchError, NotFound
from tests.unit.matcher.people import NOW, person, sharer


def match(status="proposed", learners=("l1",), responses_=None, expires=NOW + timedelta(days=7)):
    members = [{"id": "s", "role": "sharer", "response": None, "share_contact": True}]
    members += [{"id": pid, "role": "learner", "response": None, "share_contact": True} for pid in learners]
    for member in members:
        member["response"] = (responses_ or {}).get(member["id"])
    return {"_id": "m1", "topic": "budget-development", "language": "ar", "participants": members,
            "status": status, "reasons": [], "reason_codes": [], "score": 1.0, "expires_at": expires}


def test_a_sharer_gets_no_more_connections_than_its_capacity_leaves():
    loads = {"a": {"open": 1}, "b": {"open": 0, "capacity": 1}, "c": {"open": 3}}
    assert capacity.grant({"a": 5, "b": 2, "c": 1, "new": 1}, loads, 3) == {"a": 2, "b": 1, "c": 0, "new": 0}
    assert capacity.has_room({"open": 2}, 3) and not capacity.has_room({"open": 1, "capacity": 1}, 3)
    assert capacity.has_room(None, 3)


def test_a_raise_that_raced_with_another_writer_gets_nothing():
    before = {"a": {"open": 1}, "b": {"open": 0}}
    assert capacity.confirmed({"a": 2, "b": 1}, before, {"a": 3, "b": 2}) == {"a": 2, "b": 0}


def test_the_first_connections_of_each_sharer_are_taken_in_order():
    connections = [{"sharer": {"participant_id": p}, "n": i} for i, p in enumerate("aabab")]
    assert [c["n"] for c in capacity.take(connections, {"a": 2, "b": 1})] == [0, 1, 2]


def test_a_learners_decline_blocks_them_and_the_sharer_and_a_sharers_decline_blocks_every_learner():
    assert blocks.after_decline(match(learners=("l1", "l2")), "l1") == [("l1|s", ["l1", "s"])]
    assert [pair for pair, _ in blocks.after_decline(match(learners=("l1", "l2")), "s")] == ["l1|s", "l2|s"]


def test_an_expiry_blocks_for_the_cooldown_but_never_shortens_a_decline():
    pairs = blocks.after_expiry(match(learners=("l1", "l2")), {"l1|s": {"_id": "l1|s"}}, NOW, 90)
    assert pairs == [("l2|s", ["l2", "s"], NOW + timedelta(days=90))]
    assert blocks.active([{"_id": "a", "until": NOW + timedelta(days=1)}, {"_id": "b", "until": NOW},
                          {"_id": "c"}], NOW) == {"a", "c"}


def test_a_completed_connection_holds_each_pair_on_its_topic_for_the_cooldown():
    [held] = blocks.after_connection(match(), NOW, 90)
    assert held["pair"] == "l1|s" and held["topic"] == "budget-development"
    assert held["until"] == NOW + timedelta(days=90)


def test_the_last_accept_confirms_and_a_decline_closes():
    first = responses.answer(match(learners=("l1",)), "l1", "accept", None, NOW)
    assert not first.confirmed and [kind for kind, _ in first.events] == ["match-accepted"]
    last = responses.answer(first.match, "s", "accept", None, NOW)
    assert last.confirmed and last.match["status"] == "confirmed"
    assert [kind for kind, _ in last.events] == ["match-accepted", "match-confirmed"]
    declined = responses.answer(match(), "s", "decline", "no time", NOW)
    assert declined.declined and declined.events[0] == (
        "match-declined", {"participant_id": "s", "reason": "no time", "cause": "responded"})


def test_only_members_answer_and_only_while_proposed():
    with pytest.raises(Forbidden):
        responses.answer(match(), "stranger", "accept", None, NOW)
    with pytest.raises(MatchError, match="confirmed"):
        responses.answer(match(status="confirmed"), "l1", "decline", None, NOW)
    with pytest.raises(NotFound):
        responses.answer(None, "l1", "accept", None, NOW)


def test_an_outcome_needs_a_member_and_a_confirmed_connection():
    assert responses.check_outcome(match(status="confirmed"), "l1")["_id"] == "m1"
    with pytest.raises(MatchError, match="proposed"):
        responses.check_outcome(match(), "l1")
    with pytest.raises(Forbidden):
        responses.check_outcome(match(status="confirmed"), "stranger")


def test_a_proposal_expires_at_its_deadline_only_while_proposed():
    assert not responses.is_expired(match(), NOW)
    assert responses.is_expired(match(), NOW + timedelta(days=7))
    naive = match(expires=(NOW + timedelta(days=1)).replace(tzinfo=None))  # as MongoDB hands it back
    assert responses.is_expired(naive, NOW + timedelta(days=2))
    assert not responses.is_expired(match(status="confirmed"), NOW + timedelta(days=30))


def test_after_a_decline_the_others_look_again_and_after_an_expiry_only_who_accepted():
    data = {"participants": [{"participant_id": "s", "role": "sharer", "response": None},
                             {"participant_id": "l1", "role": "learner", "response": "accept"},
                             {"participant_id": "l2", "role": "learner", "response": None}],
            "participant_id": "s", "cause": "responded"}
    assert responses.looking_again(data) == [("learner", "l1"), ("learner", "l2")]
    assert responses.looking_again({**data, "participant_id": None, "cause": "expired"}) == [("learner", "l1")]


def test_incremental_mode_tries_the_best_sharers_with_room_above_the_threshold():
    learner = person("l")
    edges = [Edge(learner, sharer(name), value, "ar") for name, value in (("a", 5.0), ("b", 4.0), ("c", 3.0),
                                                                           ("d", 1.0))]
    tried = incremental.options(edges, {"a": 3, "b": 1}, {"b": 2}, 3, threshold=2.0)
    assert [edge.person for edge in tried] == ["b", "c"]  # a is full, d is below the threshold
    assert incremental.region_share(["mena", "mena", "nwe", "lac"]) == {"mena": 0.5, "nwe": 0.25, "lac": 0.25}


def test_learners_proposed_together_see_each_others_proposals_and_only_their_own_blocks():
    a, b = sharer("a"), sharer("b")
    a["_id"], b["_id"] = "a:budget-development:share", "b:budget-development:share"
    l1, l2 = person("l1"), person("l2")
    l1["_id"] = "l1:budget-development:learn"
    declined = {"_id": "a|l2", "people": ["a", "l2"]}
    cooled = {"_id": "b|l1", "people": ["b", "l1"], "until": NOW - timedelta(days=1)}  # the cooldown is over
    around = incremental.Surroundings.of([a, b], [declined, cooled], [], {"a": {"open": 0, "capacity": 1}},
                                         {"mena": 1.0}, [], {})
    assert around.sharers == {"budget-development": [a, b]}
    assert around.blocked("l1", NOW) == set() and around.blocked("l2", NOW) == {"a|l2"}
    edge = Edge(l1, a, 3.0, "ar")
    assert around.has_room("a", 3) and around.open_with(edge) == []

    new = {**match(learners=("l1",)), "_id": "m-new", "participants": [
        {"id": "a", "role": "sharer", "response": None}, {"id": "l1", "role": "learner", "response": None}]}
    around.opened(new, edge)
    assert not around.has_room("a", 3)  # its one connection is taken
    assert around.open_with(Edge(l2, a, 2.0, "ar")) == [new]  # the next learner may join it
    assert set(around.interests) == {a["_id"], l1["_id"]}  # its members, for the join's rules
    assert around.open_with(Edge(l2, a, 2.0, "en")) == []  # held in Arabic

    full = {**new, "participants": new["participants"] + [{"id": f"l{i}", "role": "learner"} for i in (2, 3)]}
    around.joined(full, {**person("l3"), "_id": "l3:budget-development:learn"})
    assert around.open_with(Edge(l2, a, 2.0, "ar")) == []  # four people: nobody else joins
    around.opened({**new, "_id": "m-other"}, edge, load=1)
    around.forget({"_id": "m-other"})
    assert around.open_with(edge) == [] and around.loads["a"] == 1


def test_an_older_copy_of_an_interest_changes_nothing():
    assert read_model.is_older({"revision": 3}, 2) and not read_model.is_older({"revision": 3}, 3)
    assert not read_model.is_older(None, 1)
    doc = read_model.candidate({**person("p"), "revision": 2, "share_contact": True, "unknown": "x"})
    assert doc["_id"] == "p:budget-development:learn" and doc["active"] and "unknown" not in doc
