"""The matcher's hard rules, score and rounds, without I/O."""
from datetime import date, datetime, timezone

from hypothesis import given, settings, strategies as st

from services.matcher.assignment import feasible_edges, greedy, optimal, plan_round
from services.matcher.config import MatcherConfig
from services.matcher.rules import MAX_LEARNERS, common_languages, different_groups, overlap, pair_key, violation
from services.matcher.scoring import score

DAY = date(2026, 12, 2)
NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


def person(pid, topic="budget-development", direction="learn", languages=("ar", "en"), tz="Africa/Cairo",
           region="mena", group=None):
    return {"participant_id": pid, "topic": topic, "direction": direction, "languages": list(languages),
            "timezone": tz, "region": region, "group": {"name": group or f"group {pid}", "type": "user_group"},
            "registered_at": "2026-11-01T00:00:00Z"}


def check(learner, sharer, blocked=(), connected=()):
    return violation(learner, sharer, set(blocked), set(connected), DAY)


def test_people_must_share_a_language():
    assert common_languages(person("a", languages=("fr", "ar")), person("b", languages=("ar", "fr"))) == ["fr", "ar"]
    assert check(person("a", languages=("es",)), person("b", direction="share", languages=("pt",))) == \
        "no_common_language"


def test_time_zones_need_an_hour_inside_both_working_days():
    minutes, start, end = overlap("Africa/Cairo", "Asia/Amman", DAY)
    assert minutes >= 12 * 60
    # Two 13-hour days always share 2 hours somewhere on the clock; narrower days can miss.
    assert overlap("America/Los_Angeles", "Asia/Kolkata", DAY)[0] == 150
    assert overlap("America/Los_Angeles", "Asia/Kolkata", DAY, 9, 17)[0] < 60
    assert violation(person("a", tz="America/Los_Angeles", languages=("en",)),
                     person("b", direction="share", tz="Asia/Kolkata", languages=("en",)), set(), set(), DAY,
                     9, 17) == "no_time_overlap"
    sydney_la = overlap("Australia/Sydney", "America/Los_Angeles", DAY)
    assert sydney_la[0] >= 60  # Sydney's morning meets the Los Angeles evening before


def test_half_hour_zones_and_daylight_saving_are_respected():
    kathmandu = overlap("Asia/Kathmandu", "Asia/Kathmandu", DAY)
    assert kathmandu[0] == 13 * 60 and kathmandu[1].minute == 15  # 08:00 +05:45 is 02:15 UTC
    winter = overlap("America/New_York", "Europe/London", date(2026, 1, 14))[0]
    march_gap = overlap("America/New_York", "Europe/London", date(2026, 3, 18))[0]  # US moved, UK not yet
    assert march_gap == winter + 60


def test_people_of_the_same_group_are_not_matched():
    assert not different_groups(person("a", group="WM Egypt"), person("b", group="wm  egypt"))
    assert check(person("a", group="X"), person("b", direction="share", group="x")) == "same_group"


def test_declined_pairs_and_recent_connections_are_not_proposed_again():
    learner, sharer = person("a"), person("b", direction="share")
    assert check(learner, sharer, blocked={pair_key("a", "b")}) == "declined_before"
    assert check(learner, sharer, connected={(pair_key("a", "b"), "budget-development")}) == "already_connected"
    assert check(learner, sharer) is None


def test_score_gives_reasons_in_words_and_codes():
    value, language, reasons, codes = score(person("a"), person("b", direction="share", tz="Asia/Amman"),
                                            MatcherConfig().weights, DAY, NOW)
    assert language == "ar" and value > 0
    assert reasons[0] == "both speak Arabic" and "UTC" in reasons[1] and "Budget development" in reasons[2]
    assert "language:ar" in codes and "first_language_both" in codes


def test_score_prefers_the_less_loaded_sharer():
    weights = MatcherConfig().weights
    idle = score(person("a"), person("b", direction="share"), weights, DAY, NOW, sharer_load=0)[0]
    busy = score(person("a"), person("b", direction="share"), weights, DAY, NOW, sharer_load=2)[0]
    assert idle > busy


def test_round_groups_learners_of_one_topic_and_language_into_connections_of_four():
    learners = [person(f"l{i}") for i in range(7)]
    plan = plan_round(learners, [person("s", direction="share", tz="Asia/Amman")], blocked=set(), connected=set(),
                      loads={}, capacities={}, region_share={}, config=MatcherConfig(sharer_capacity=3), on=DAY,
                      now=NOW)
    sizes = sorted(len(c["learners"]) for c in plan.connections)
    assert sizes == [1, 3, 3] and plan.unmatched == []


def test_unmatched_learners_say_why():
    plan = plan_round([person("l", topic="advocacy"), person("m", languages=("sw",))],
                      [person("s", direction="share", languages=("ar",))], blocked=set(), connected=set(), loads={},
                      capacities={}, region_share={}, config=MatcherConfig(), on=DAY, now=NOW)
    assert {u["learner"]["participant_id"]: u["reason"] for u in plan.unmatched} == {
        "l": "no_sharer_for_topic", "m": "no_common_language"}


LANGS = ["ar", "en", "fr", "es", "sw"]
ZONES = ["Africa/Cairo", "Asia/Kolkata", "America/Lima", "Europe/Paris", "Asia/Jakarta", "America/St_Johns",
         "Asia/Kathmandu", "Australia/Lord_Howe"]
people = st.tuples(st.lists(st.sampled_from(LANGS), min_size=1, max_size=2, unique=True), st.sampled_from(ZONES),
                   st.sampled_from(["g1", "g2", "g3", "g4"]), st.sampled_from(["t1", "t2"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(people, min_size=1, max_size=25), st.lists(people, min_size=1, max_size=8),
       st.integers(min_value=1, max_value=3))
def test_no_round_ever_breaks_a_hard_rule_and_optimal_is_never_below_greedy(learner_specs, sharer_specs, capacity):
    learners = [person(f"l{i}", topic=t, languages=langs, tz=tz, group=g)
                for i, (langs, tz, g, t) in enumerate(learner_specs)]
    sharers = [person(f"s{i}", topic=t, direction="share", languages=langs, tz=tz, group=g)
               for i, (langs, tz, g, t) in enumerate(sharer_specs)]
    config = MatcherConfig(sharer_capacity=capacity)
    kwargs = dict(blocked=set(), connected=set(), loads={}, capacities={}, region_share={}, config=config, on=DAY,
                  now=NOW)
    plan = plan_round(learners, sharers, **kwargs)
    per_sharer: dict[str, int] = {}
    seen = set()
    for connection in plan.connections:
        sharer = connection["sharer"]
        assert 1 <= len(connection["learners"]) <= MAX_LEARNERS
        per_sharer[sharer["participant_id"]] = per_sharer.get(sharer["participant_id"], 0) + 1
        for edge in connection["learners"]:
            assert violation(edge.learner, sharer, set(), set(), DAY) is None
            assert connection["language"] in edge.learner["languages"] and connection["language"] in sharer["languages"]
            assert edge.learner["participant_id"] not in seen
            seen.add(edge.learner["participant_id"])
    assert all(count <= capacity for count in per_sharer.values())
    edges, _ = feasible_edges(learners, sharers, blocked=set(), connected=set(), loads={}, region_share={},
                              config=config, on=DAY, now=NOW)
    free = {s["participant_id"]: capacity for s in sharers}
    best, baseline = optimal(learners, edges, free), greedy(learners, edges, free)
    assert sum(e.score for e in best) >= sum(e.score for e in baseline) - 1e-6


def test_same_input_same_round():
    learners = [person(f"l{i}", tz=ZONES[i % 4]) for i in range(12)]
    sharers = [person(f"s{i}", direction="share", tz=ZONES[(i + 1) % 4]) for i in range(3)]
    kwargs = dict(blocked=set(), connected=set(), loads={}, capacities={}, region_share={}, config=MatcherConfig(),
                  on=DAY, now=NOW)
    first = plan_round(learners, sharers, **kwargs)
    again = plan_round(list(reversed(learners)), list(reversed(sharers)), **kwargs)
    shape = lambda plan: sorted((c["sharer"]["participant_id"], tuple(sorted(e.learner["participant_id"]  # noqa: E731
                                                                             for e in c["learners"])))
                                for c in plan.connections)
    assert shape(first) == shape(again) and first.total_score == again.total_score
    assert optimal  # the solver under test
