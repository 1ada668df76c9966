"""Rounds: optimal assignment under capacities, grouping into connections, reasons for the
unmatched, determinism; property tests on random populations."""
from itertools import product

from hypothesis import given, settings, strategies as st

from services.matcher.domain.assignment import feasible_edges, greedy, objective, optimal, plan_round
from services.matcher.config import MatcherConfig
from services.matcher.domain.rules import MAX_LEARNERS, group_is_valid, pair_key, violation
from tests.unit.matcher.people import DAY, NOW, person, sharer

EMPTY = dict(blocked=set(), connected=set(), loads={}, capacities={}, region_share={}, on=DAY, now=NOW)


def plan(learners, sharers, config=None, **overrides):
    return plan_round(learners, sharers, **{**EMPTY, "config": config or MatcherConfig(), **overrides})


def shape(result):
    return sorted((c["sharer"]["participant_id"], c["language"], tuple(sorted(e.learner["participant_id"]
                                                                             for e in c["learners"])))
                  for c in result.connections)


def test_learners_of_one_topic_and_language_become_connections_of_at_most_four():
    result = plan([person(f"l{i}") for i in range(7)], [sharer("s", tz="Asia/Amman")])
    assert sorted(len(c["learners"]) for c in result.connections) == [1, 3, 3]
    assert result.unmatched == [] and result.proven


def test_a_sharer_never_holds_more_than_its_connections():
    learners = [person(f"l{i}") for i in range(12)]
    result = plan(learners, [sharer("s")], MatcherConfig(sharer_capacity=2))
    assert len(result.connections) == 2 and sum(len(c["learners"]) for c in result.connections) == 6
    assert {u["reason"] for u in result.unmatched} == {"capacity"} and len(result.unmatched) == 6
    # open connections count, and a sharer's own capacity overrides the default
    assert len(plan(learners, [sharer("s")], loads={"s": 2}).connections) == 1
    assert len(plan(learners, [sharer("s")], capacities={"s": 1}).connections) == 1
    assert plan(learners, [sharer("s")], capacities={"s": 0}).connections == []


def test_a_bilingual_sharer_spends_its_connections_where_they_seat_most():
    # Two Arabic-only learners and one French-only, one connection: the Arabic one wins.
    learners = [person("a1", languages=("ar",)), person("a2", languages=("ar",)), person("f", languages=("fr",))]
    result = plan(learners, [sharer("s", languages=("fr", "ar"))], MatcherConfig(sharer_capacity=1))
    assert shape(result) == [("s", "ar", ("a1", "a2"))]
    assert result.proven  # a small round is solved exactly


def test_unmatched_learners_say_why():
    learners = [person("topic", topic="advocacy"), person("lang", languages=("sw",)),
                person("group", group="group s"), person("declined"), person("met"), person("far", languages=("en",),
                                                                                           tz="Pacific/Kiritimati")]
    result = plan(learners, [sharer("s", languages=("ar", "en"), tz="Africa/Cairo")],
                  config=MatcherConfig(day_start_hour=9, day_end_hour=17),
                  blocked={pair_key("declined", "s")}, connected={(pair_key("met", "s"), "budget-development")})
    assert {u["learner"]["participant_id"]: u["reason"] for u in result.unmatched} == {
        "topic": "no_sharer_for_topic", "lang": "no_common_language", "group": "same_group",
        "declined": "declined_before", "met": "already_connected", "far": "no_time_overlap"}


def test_a_round_spreads_learners_over_sharers_when_scores_are_close():
    learners = [person(f"l{i}", region="mena") for i in range(6)]
    sharers = [sharer("near", region="mena"), sharer("far", region="ssa")]  # "near" is 0.2 better for everyone
    weights = {**MatcherConfig().weights, "region": 0.4}
    spread = plan(learners, sharers, MatcherConfig(weights=weights))
    assert sorted((c["sharer"]["participant_id"], len(c["learners"])) for c in spread.connections) == [
        ("far", 3), ("near", 3)]
    lumped = plan(learners, sharers, MatcherConfig(weights={**weights, "load": 0}))
    assert sorted((c["sharer"]["participant_id"], len(c["learners"])) for c in lumped.connections) == [
        ("near", 3), ("near", 3)]
    assert spread.proven and lumped.proven


def test_nobody_is_forced_into_a_match_they_cannot_take():
    result = plan([person("l", languages=("es",))], [sharer("s", languages=("ar",))])
    assert result.connections == [] and result.total_score == 0


def test_same_input_same_round():
    zones = ["Africa/Cairo", "Asia/Amman", "Europe/Paris", "Africa/Lagos"]
    learners = [person(f"l{i}", tz=zones[i % 4], languages=(("ar", "fr"), ("fr",), ("ar",))[i % 3]) for i in range(14)]
    sharers = [sharer(f"s{i}", tz=zones[(i + 1) % 4], languages=("fr", "ar")) for i in range(3)]
    config = MatcherConfig(sharer_capacity=2)
    first = plan(learners, sharers, config)
    again = plan(list(reversed(learners)), list(reversed(sharers)), config)
    assert shape(first) == shape(again) and first.total_score == again.total_score


LANGS = ["ar", "en", "fr", "es", "sw"]
ZONES = ["Africa/Cairo", "Asia/Kolkata", "America/Lima", "Europe/Paris", "Asia/Jakarta", "America/St_Johns",
         "Asia/Kathmandu", "Australia/Lord_Howe"]
someone = st.tuples(st.lists(st.sampled_from(LANGS), min_size=1, max_size=2, unique=True), st.sampled_from(ZONES),
                    st.sampled_from(["g1", "g2", "g3", "g4"]), st.sampled_from(["t1", "t2"]))


def population(learner_specs, sharer_specs):
    learners = [person(f"l{i}", topic=t, languages=langs, tz=tz, group=g)
                for i, (langs, tz, g, t) in enumerate(learner_specs)]
    sharers = [sharer(f"s{i}", topic=t, languages=langs, tz=tz, group=g)
               for i, (langs, tz, g, t) in enumerate(sharer_specs)]
    return learners, sharers


@settings(max_examples=150, deadline=None)
@given(st.lists(someone, min_size=1, max_size=30), st.lists(someone, min_size=1, max_size=8),
       st.integers(min_value=1, max_value=3), st.sampled_from([(8, 21), (9, 17), (10, 13)]),
       st.sets(st.tuples(st.integers(0, 29), st.integers(0, 7)), max_size=6), st.integers(0, 1500))
def test_no_round_ever_breaks_a_hard_rule_nor_scores_below_greedy(learner_specs, sharer_specs, capacity, window,
                                                                  declined, exact_edges):
    learners, sharers = population(learner_specs, sharer_specs)
    blocked = {pair_key(f"l{a}", f"s{b}") for a, b in declined}
    config = MatcherConfig(sharer_capacity=capacity, day_start_hour=window[0], day_end_hour=window[1],
                           exact_edges=exact_edges)
    result = plan(learners, sharers, config, blocked=blocked)
    connections: dict[str, int] = {}
    seen = set()
    for connection in result.connections:
        their_sharer = connection["sharer"]
        learners_in = [edge.learner for edge in connection["learners"]]
        assert group_is_valid(their_sharer, learners_in, connection["language"])
        assert len(learners_in) <= MAX_LEARNERS
        for learner in learners_in:
            assert violation(learner, their_sharer, blocked, set(), DAY, window[0], window[1]) is None
            assert learner["participant_id"] not in seen
            seen.add(learner["participant_id"])
        connections[their_sharer["participant_id"]] = connections.get(their_sharer["participant_id"], 0) + 1
    assert all(count <= capacity for count in connections.values())
    assert len(seen) + len(result.unmatched) == len(learners)
    baseline = plan(learners, sharers, config, blocked=blocked, solver=greedy)
    assert result.total_score >= baseline.total_score - 1e-6
    assert result.total_score <= result.bound + 1e-3


def _brute_force(edges, free):
    """The best plan by trying every choice of edge (or none) per learner: tiny inputs only."""
    by_learner: dict[str, list] = {}
    for edge in edges:
        by_learner.setdefault(edge.learner_key, []).append(edge)
    best = 0.0
    for choice in product(*[[None] + options for options in by_learner.values()]):
        chosen = [edge for edge in choice if edge is not None]
        sizes: dict = {}
        for edge in chosen:
            sizes[edge.bucket] = sizes.get(edge.bucket, 0) + 1
        needed: dict[str, int] = {}
        for bucket, size in sizes.items():
            person_id = next(e.person for e in chosen if e.bucket == bucket)
            needed[person_id] = needed.get(person_id, 0) + -(-size // MAX_LEARNERS)
        if all(count <= free[p] for p, count in needed.items()):
            best = max(best, objective(chosen, 0.5))
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(someone, min_size=1, max_size=6), st.lists(someone, min_size=1, max_size=3),
       st.integers(min_value=1, max_value=2))
def test_a_round_reported_optimal_is_optimal(learner_specs, sharer_specs, capacity):
    learners, sharers = population(learner_specs, sharer_specs)
    config = MatcherConfig(sharer_capacity=capacity)
    edges, _ = feasible_edges(learners, sharers, blocked=set(), connected=set(), loads={}, region_share={},
                              config=config, on=DAY, now=NOW)
    free = {s["participant_id"]: capacity for s in sharers}
    result = optimal(learners, edges, free)
    assert result.proven
    assert abs(result.total - _brute_force(edges, free)) < 1e-3


def test_flow_alone_is_proven_optimal_when_every_sharer_fits():
    learners = [person(f"l{i}") for i in range(5)]
    edges, _ = feasible_edges(learners, [sharer("s1"), sharer("s2", tz="Asia/Amman")], blocked=set(), connected=set(),
                              loads={}, region_share={}, config=MatcherConfig(), on=DAY, now=NOW)
    result = optimal(learners, edges, {"s1": 3, "s2": 3}, exact_edges=0)
    assert result.proven and result.methods == {"flow": 1} and abs(result.total - result.bound) < 1e-3


def open_connection(match_id, sharer_id, learners, language="ar", status="proposed"):
    members = [{"id": sharer_id, "role": "sharer", "response": None}]
    members += [{"id": pid, "role": "learner", "response": "accept"} for pid in learners]
    return {"_id": match_id, "topic": "budget-development", "language": language, "participants": members,
            "status": status, "created_at": NOW}


def test_a_round_fills_open_connections_before_opening_new_ones():
    amina = sharer("s", tz="Asia/Amman")
    waiting = [person(f"l{i}") for i in range(1, 3)]
    members = {f"{p['participant_id']}:budget-development:{p['direction']}": p
               for p in [amina, person("l0")] + waiting}
    # amina holds one connection with one learner and has no free connection left
    result = plan(waiting, [amina], loads={"s": 1}, capacities={"s": 1},
                  open_connections=[open_connection("m0", "s", ["l0"], status="confirmed")], members=members)
    assert [(c["join"], sorted(e.learner["participant_id"] for e in c["learners"])) for c in result.connections] == [
        ("m0", ["l1", "l2"])]
    assert result.unmatched == []


def test_nobody_joins_across_a_hard_rule_with_a_member():
    amina = sharer("s", tz="Asia/Amman")
    newcomer = person("l1", group="group l0")  # same group as the learner already there
    members = {"s:budget-development:share": amina, "l0:budget-development:learn": person("l0")}
    result = plan([newcomer], [amina], loads={"s": 1}, capacities={"s": 1},
                  open_connections=[open_connection("m0", "s", ["l0"])], members=members)
    assert result.connections == [] and [u["reason"] for u in result.unmatched] == ["capacity"]
    full = open_connection("m1", "s", ["a", "b", "c"])
    assert plan([person("l2")], [amina], loads={"s": 1}, capacities={"s": 1}, open_connections=[full],
                members=members).connections == []
