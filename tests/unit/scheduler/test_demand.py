"""The suggestions' counters move with each change so that they always equal what a full count of
the people would give (no database)."""
from collections import Counter

from hypothesis import given, settings, strategies as st

from services.scheduler.domain import demand, topic_ranking

TOPICS = ["a", "b", "c"]
ZONES = ["Africa/Lagos", "Asia/Kathmandu", "America/Lima"]


def full_count(people: dict[str, dict]) -> Counter:
    total: Counter = Counter()
    for person in people.values():
        total.update(demand.contribution(person))
    return Counter({k: v for k, v in total.items() if v})


person_state = st.fixed_dictionaries({
    "languages": st.just(["en"]), "timezone": st.sampled_from(ZONES), "region": st.sampled_from(["ssa", "mena"]),
    "learn": st.lists(st.sampled_from(TOPICS), unique=True), "share": st.lists(st.sampled_from(TOPICS), unique=True),
    "connected": st.lists(st.sampled_from(TOPICS), unique=True)})
change = st.tuples(st.sampled_from(["p1", "p2", "p3"]), st.one_of(st.none(), person_state))


@settings(max_examples=80, deadline=None)
@given(st.lists(change, max_size=25))
def test_moving_the_counters_by_each_change_gives_the_full_count(changes):
    people: dict[str, dict] = {}
    counters: Counter = Counter()
    for pid, state in changes:
        before = people.get(pid)
        after = {"_id": pid, **state} if state else None
        counters.update(demand.delta(before, after))
        if after:
            people[pid] = after
        else:
            people.pop(pid, None)
    assert Counter({k: v for k, v in counters.items() if v}) == full_count(people)
    ranked = topic_ranking.demand(list(people.values()))
    for topic in TOPICS:
        assert counters[("topic", topic, "waiting")] == (ranked[topic].waiting if topic in ranked else 0)
        assert counters[("topic", topic, "sharers")] == (ranked[topic].sharers if topic in ranked else 0)


def test_an_erased_or_unknown_person_adds_nothing_and_zones_are_weighted():
    assert demand.contribution(None) == Counter() and demand.contribution({"withdrawn": True}) == Counter()
    person = {"languages": ["en"], "timezone": "Africa/Lagos", "region": "ssa", "learn": ["a"], "share": [],
              "connected": ["a"]}
    added = demand.contribution(person)
    assert added[("topic", "a", "learners")] == 1 and ("topic", "a", "waiting") not in added
    assert added[("topic", "a", "learner_zones.Africa/Lagos")] == 1 and added[("region", "ssa", "zones.Africa/Lagos")] == 1
    assert demand.zone_weights({"zones": {"Africa/Lagos": 2, "Asia/Tokyo": 0}}, "zones") == {"Africa/Lagos": 2}
