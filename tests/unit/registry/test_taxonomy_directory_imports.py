"""The registry's decisions that sat in its views: which topics staff may add, who the directory
lists and how its pages are cut, what a CSV import reports, the program figures."""
import pytest

from services.registry.domain import directory
from services.registry.domain.errors import TopicExists, UnknownCategory, UnknownTopics
from services.registry.domain.figures import program_figures
from services.registry.domain.imports import ImportReport, row_outcome
from services.registry.domain.taxonomy import (
    check_new_topic, known_topic_codes, localised, merged_categories, preferred_language, require_known_topics,
)

WLM = {"code": "wiki-loves-monuments", "category": "programmatic", "labels": {"en": "Running WLM"}, "hot": False}


def test_staff_add_topics_in_existing_categories_with_new_codes_only():
    check_new_topic(WLM, [])
    with pytest.raises(UnknownCategory) as unknown:
        check_new_topic({**WLM, "category": "astrology"}, [])
    assert "programmatic" in unknown.value.categories
    with pytest.raises(TopicExists):
        check_new_topic(WLM, [WLM])
    with pytest.raises(TopicExists):
        check_new_topic({**WLM, "code": "budget-development"}, [])  # a base topic's code


def test_added_topics_are_served_in_their_category_with_an_english_fallback():
    served = localised(merged_categories([WLM]), "sw")
    programmatic = next(c for c in served["categories"] if c["code"] == "programmatic")
    assert {"code": "wiki-loves-monuments", "label": "Running WLM", "hot": False, "wikidata": None} \
        in programmatic["topics"]
    assert "wiki-loves-monuments" in known_topic_codes([WLM])


def test_unknown_interest_topics_are_named_by_position():
    with pytest.raises(UnknownTopics) as refused:
        require_known_topics([{"topic": "budget-development"}, {"topic": "astrology"}], known_topic_codes([]))
    assert list(refused.value.errors["interests"]) == [1]
    require_known_topics([{"topic": "budget-development"}], known_topic_codes([]))


@pytest.mark.parametrize("query, accept, chosen", [
    ("fr", [("ar", 1)], "fr"), (None, [("ar-EG", 1), ("en", 0.5)], "ar"), (None, [("sw", 1), ("es", 0.3)], "es"),
    (None, [("sw", 1)], None),
])
def test_the_taxonomy_language_is_the_query_else_the_best_accepted_label_language(query, accept, chosen):
    assert preferred_language(query, accept) == chosen


def test_the_directory_lists_only_public_profiles_whatever_the_filters():
    assert directory.conditions() == {"consent.public_profile": True}
    wanted = directory.conditions(topic="fundraising", direction="share", language="sw", region="ssa",
                                  group_type="chapter")
    assert wanted == {"consent.public_profile": True, "interests": {"topic": "fundraising", "direction": "share"},
                      "languages": "sw", "region": "ssa", "group.type": "chapter"}
    assert directory.listed({"consent": {"public_profile": True}})
    assert not directory.listed({"consent": {"public_profile": False}}) and not directory.listed({})


def profile(name, **extra):
    return {"_id": name, "username": name, "name": name.title(), "email": f"{name}@example.org",
            "timezone": "Africa/Cairo", "languages": ["ar"], "region": "mena", "group": None, "role": "board",
            "interests": [], "consent": {"public_profile": True}, "directory_key": name.casefold(), **extra}


def test_directory_entries_carry_public_fields_only():
    entry = directory.entry(profile("amina"))
    assert set(entry) == {"id", "username", "name", "languages", "region", "group", "role", "interests"}


def test_directory_pages_end_where_the_next_one_starts():
    found = [profile(n) for n in ("amina", "bola", "chen")]
    items, after = directory.page(found, 2)
    assert [i["id"] for i in items] == ["amina", "bola"] and after == "bola"
    items, after = directory.page(found[2:], 2)
    assert [i["id"] for i in items] == ["chen"] and after is None


def test_an_import_reports_each_row_and_sums_them():
    report = ImportReport()
    report.record(2, row_outcome(None, {"revision": 1}), id="a")
    report.record(3, row_outcome({"revision": 4}, {"revision": 4}), id="b")
    report.record(4, row_outcome({"revision": 4}, {"revision": 5}), id="c")
    report.record(5, "rejected", errors={"email": ["Not a valid email address."]})
    assert report.as_dict() == {
        "summary": {"created": 1, "updated": 1, "unchanged": 1, "rejected": 1},
        "rows": [{"row": 2, "status": "created", "id": "a"}, {"row": 3, "status": "unchanged", "id": "b"},
                 {"row": 4, "status": "updated", "id": "c"},
                 {"row": 5, "status": "rejected", "errors": {"email": ["Not a valid email address."]}}]}


def test_program_figures_count_affiliates_sharers_and_the_most_wanted_topics():
    people = [
        {"region": "mena", "group": {"type": "chapter"}, "languages": ["ar"], "consent": {"public_profile": True},
         "interests": [{"topic": "fundraising", "direction": "learn"}, {"topic": "events", "direction": "share"}]},
        {"region": "ssa", "group": {"type": "unrecognized_group"}, "languages": ["sw", "en"], "consent": {},
         "interests": [{"topic": "fundraising", "direction": "learn"}]},
    ]
    figures = program_figures(people, withdrawn=3)
    assert figures["participants"] == 2 and figures["withdrawn"] == 3
    assert figures["affiliated"] == 1 and figures["affiliated_share"] == 0.5
    assert figures["sharers"] == 1 and figures["public_profiles"] == 1
    assert figures["top_learn"] == [{"topic": "fundraising", "count": 2}]
    assert figures["by_group_type"] == {"chapter": 1, "unrecognized_group": 1}
    dated = program_figures([{"region": "mena", "registered_at": "2026-11-02T10:00:00Z"},
                             {"region": "lac", "registered_at": "2026-12-01T10:00:00Z"},
                             {"region": "lac", "registered_at": "2026-12-05T10:00:00Z"}], 0)
    assert dated["by_month"] == {"2026-11": 1, "2026-12": 2}  # registrations over time
    assert program_figures([], 0)["affiliated_share"] == 0.0
