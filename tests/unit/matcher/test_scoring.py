"""The documented score: each term moves it the way the docs say, reasons in words and codes,
and the round's array form (candidates.py) agrees with it."""
import os
from unittest import mock

from hypothesis import given, settings, strategies as st

from services.matcher.domain.candidates import feasible_edges
from services.matcher.config import DEFAULT_WEIGHTS, MatcherConfig
from services.matcher.domain.rules import violation
from services.matcher.domain.scoring import score
from tests.unit.matcher.people import DAY, NOW, person, sharer

WEIGHTS = MatcherConfig().weights


def value(learner, their_sharer, **kwargs):
    return score(learner, their_sharer, WEIGHTS, DAY, NOW, **kwargs)[0]


def test_reasons_in_plain_words_and_codes():
    total, language, reasons, codes = score(person("a"), sharer("b", tz="Asia/Amman"), WEIGHTS, DAY, NOW)
    assert language == "ar" and total > 0
    assert reasons[0] == "both speak Arabic"
    assert reasons[1].endswith("UTC") and "overlap" in reasons[1]
    assert reasons[2] == "shares 'Budget development'"
    assert {"language:ar", "topic:budget-development", "first_language_both"} <= set(codes)
    assert any(code.startswith("overlap:") for code in codes)


def test_both_peoples_preferred_language_scores_highest():
    both = value(person("a", languages=("ar", "en")), sharer("b", languages=("ar", "en")))
    one = value(person("a", languages=("ar", "en")), sharer("b", languages=("en", "ar")), language="en")
    neither = value(person("a", languages=("ar", "fr")), sharer("b", languages=("en", "fr")))
    assert both > one > neither


def test_a_longer_overlap_scores_higher():
    near = value(person("a", tz="Africa/Cairo"), sharer("b", tz="Asia/Amman"))
    far = value(person("a", tz="Africa/Cairo"), sharer("b", tz="America/Los_Angeles"))  # 3 h
    assert near > far


def test_the_longer_a_learner_has_waited_the_higher():
    fresh = value(person("a", registered_at="2026-11-23T00:00:00Z"), sharer("b"))
    waited = value(person("a", registered_at="2026-09-01T00:00:00Z"), sharer("b"))
    assert waited > fresh
    assert "long_wait" in score(person("a", registered_at="2026-09-01T00:00:00Z"), sharer("b"), WEIGHTS, DAY, NOW)[3]


def test_load_is_spread_across_sharers():
    assert value(person("a"), sharer("b"), sharer_load=0) > value(person("a"), sharer("b"), sharer_load=2)


def test_sharers_from_regions_rarely_sharing_get_space():
    rare = score(person("a"), sharer("b"), WEIGHTS, DAY, NOW, sharer_region_share=0.02)
    common = score(person("a"), sharer("b"), WEIGHTS, DAY, NOW, sharer_region_share=0.6)
    assert rare[0] > common[0] and "rare_sharer" in rare[3] and "rare_sharer" not in common[3]


def test_same_region_is_a_small_plus():
    same = score(person("a", region="mena"), sharer("b", region="mena"), WEIGHTS, DAY, NOW)
    other = score(person("a", region="mena"), sharer("b", region="ssa"), WEIGHTS, DAY, NOW)
    assert same[0] > other[0] and "same_region" in same[3]


def test_weights_are_configurable():
    env = {"LC_MATCHER_WEIGHTS": '{"region": 0, "waiting": 3}', "LC_MATCHER_SHARER_CAPACITY": "5",
           "LC_MATCHER_DAY_START_HOUR": "9"}
    with mock.patch.dict(os.environ, env):
        config = MatcherConfig.from_env()
    assert config.weights == {**DEFAULT_WEIGHTS, "region": 0, "waiting": 3}
    assert (config.sharer_capacity, config.day_start_hour, config.day_end_hour) == (5, 9, 21)
    same = score(person("a", region="mena"), sharer("b", region="mena"), config.weights, DAY, NOW)[0]
    other = score(person("a", region="mena"), sharer("b", region="ssa"), config.weights, DAY, NOW)[0]
    assert same == other


LANGS = ["ar", "en", "fr", "es", "sw"]
ZONES = ["Africa/Cairo", "Asia/Kolkata", "America/Lima", "Europe/Paris", "Asia/Jakarta", "America/St_Johns",
         "Asia/Kathmandu", "Pacific/Auckland"]
someone = st.tuples(st.lists(st.sampled_from(LANGS), min_size=1, max_size=3, unique=True), st.sampled_from(ZONES),
                    st.sampled_from(["g1", "g2", "g3"]), st.sampled_from(["mena", "ssa", "lac"]),
                    st.integers(min_value=0, max_value=120))


@settings(max_examples=60, deadline=None)
@given(st.lists(someone, min_size=1, max_size=6), st.lists(someone, min_size=1, max_size=6),
       st.sampled_from([(8, 21), (9, 17), (10, 14)]), st.dictionaries(st.sampled_from(sorted(DEFAULT_WEIGHTS)),
                                                                     st.sampled_from([0, 0.5, 2]), max_size=3),
       st.sets(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=4))
def test_the_rounds_array_form_matches_the_rules_and_the_score(learner_specs, sharer_specs, window, weights, declined):
    def build(specs, prefix, direction):
        return [dict(person(f"{prefix}{i}", languages=langs, tz=tz, group=g, region=region,
                            registered_at=f"2026-{1 + days // 31:02d}-{1 + days % 28:02d}T00:00:00Z"),
                     direction=direction) for i, (langs, tz, g, region, days) in enumerate(specs)]

    learners, sharers = build(learner_specs, "l", "learn"), build(sharer_specs, "s", "share")
    blocked = {"|".join(sorted((f"l{a}", f"s{b}"))) for a, b in declined}
    config = MatcherConfig(day_start_hour=window[0], day_end_hour=window[1], candidates_per_learner=100,
                           weights={**DEFAULT_WEIGHTS, **weights})
    loads = {"s0": 2}
    region_share = {"mena": 0.5, "ssa": 0.05}
    edges, why = feasible_edges(learners, sharers, blocked=blocked, connected=set(), loads=loads,
                                region_share=region_share, config=config, on=DAY, now=NOW)
    found = {(e.learner["participant_id"], e.sharer["participant_id"], e.language): e.score for e in edges}
    for learner in learners:
        for their_sharer in sharers:
            broken = violation(learner, their_sharer, blocked, set(), DAY, window[0], window[1])
            for language in set(learner["languages"]) & set(their_sharer["languages"]):
                key = (learner["participant_id"], their_sharer["participant_id"], language)
                if broken:
                    assert key not in found
                else:
                    expected = score(learner, their_sharer, config.weights, DAY, NOW,
                                     loads.get(their_sharer["participant_id"], 0),
                                     region_share.get(their_sharer["region"], 0.0), window[0], window[1],
                                     explain=False, language=language)[0]
                    assert abs(found[key] - expected) < 1e-3
        if not any(e.learner is learner for e in edges):
            assert why[f"{learner['participant_id']}:budget-development:learn"] in (
                "no_common_language", "no_time_overlap", "same_group", "declined_before")
