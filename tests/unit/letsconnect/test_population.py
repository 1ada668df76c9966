"""The demo population is seeded, varied and shaped like the pilot's intake."""
from collections import Counter

from letsconnect.population import REGIONS, population
from shared.taxonomy import base_taxonomy, base_topics
from shared.validation import is_language_code, is_time_zone


def test_same_seed_same_people_other_seed_other_people():
    assert [a.body for a in population(50, seed=7)] == [a.body for a in population(50, seed=7)]
    assert [a.body for a in population(50, seed=7)] != [a.body for a in population(50, seed=8)]


def test_every_region_group_type_and_many_languages_appear():
    people = population(400, seed=1)
    assert {a.body["region"] for a in people} == set(REGIONS)
    assert {a.body["group"]["type"] for a in people if a.body["group"]} == {
        "chapter", "thematic_org", "user_group", "unrecognized_group"}
    languages = Counter(lang for a in people for lang in a.body["languages"])
    assert {"ar", "en", "fr", "es", "pt", "hi", "id"} <= set(languages)


def test_bodies_use_valid_codes_and_unique_usernames_and_emails():
    people = population(300, seed=3)
    assert len({a.body["username"] for a in people}) == 300
    assert len({a.body["email"] for a in people}) == 300
    for a in people:
        assert all(is_language_code(lang) for lang in a.body["languages"])
        assert is_time_zone(a.body["timezone"])
        assert all(i["topic"] in base_topics() for i in a.body["interests"])
        assert any(i["direction"] == "learn" for i in a.body["interests"])


def test_a_few_applicants_are_ineligible_for_the_checklists_reasons():
    people = population(1000, seed=5)
    ineligible = [a for a in people if not a.eligible]
    assert 20 <= len(ineligible) <= 90
    for a in ineligible:
        assert a.body["group"] is None or a.body["purpose"] == "own_editing"
    assert all(a.body["group"] and a.body["purpose"] != "own_editing" for a in people if a.eligible)


def test_learning_interests_lean_towards_the_pilots_most_wanted_skills():
    learned = Counter(i["topic"] for a in population(1000, seed=9) for i in a.body["interests"]
                      if i["direction"] == "learn")
    top_five = {code for code, _ in learned.most_common(5)}
    assert len(top_five & set(base_taxonomy()["pilot_top_learn"])) >= 4
    assert sum(1 for a in population(1000, seed=9) if any(i["direction"] == "share"
                                                         for i in a.body["interests"])) > 200


def test_a_run_tag_keeps_a_second_run_apart_from_the_first_with_the_same_people_otherwise():
    first, second = population(40, seed=7, run="s7a"), population(40, seed=7, run="s7b")
    assert not {a.body["username"] for a in first} & {a.body["username"] for a in second}
    assert not {a.body["email"] for a in first} & {a.body["email"] for a in second}
    strip = lambda a: {k: v for k, v in a.body.items() if k not in ("username", "email")}  # noqa: E731
    assert [strip(a) for a in first] == [strip(a) for a in second]
    assert population(3, seed=7)[0].body["username"].endswith("00000")  # no tag: the names as before


def test_every_demo_run_gets_its_own_short_tag():
    from letsconnect.demo import run_tag

    assert run_tag(7, now=1_800_000_000) != run_tag(7, now=1_800_000_001) != run_tag(8, now=1_800_000_001)
    assert run_tag(7, now=1_800_000_000).startswith("s7") and len(run_tag(2022)) <= 12
