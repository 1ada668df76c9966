"""Browse filters keep only what the APIs accept; the vocabularies match the platform's codes."""
from services.portal.domain import choices
from services.portal.domain.filters import ClinicFilters, DirectoryFilters, ResourceFilters, page_of
from services.resources.schemas import KINDS as RESOURCE_KINDS
from services.scheduler.schemas import KINDS as CLINIC_KINDS
from shared.events.fields import DIRECTIONS, GROUP_TYPES, PURPOSES, REGIONS, ROLES


def test_every_code_of_the_platform_has_a_label_and_no_label_is_for_an_unknown_code():
    assert set(choices.REGIONS) == set(REGIONS)
    assert set(choices.GROUP_TYPES) == set(GROUP_TYPES)
    assert set(choices.ROLES) == set(ROLES)
    assert set(choices.PURPOSES) == set(PURPOSES)
    assert set(choices.DIRECTIONS) == set(DIRECTIONS)
    assert set(choices.RESOURCE_KINDS) == set(RESOURCE_KINDS)
    assert set(choices.CLINIC_KINDS) == set(CLINIC_KINDS)


def test_directory_filters_send_only_valid_values_and_keep_their_query_for_the_next_page():
    filters = DirectoryFilters.from_query({"topic": "fundraising", "direction": "share", "language": "ar",
                                           "region": "atlantis", "group_type": "chapter", "cursor": "YWJj"})
    assert filters.api_params(20) == {"topic": "fundraising", "direction": "share", "language": "ar",
                                      "group_type": "chapter", "cursor": "YWJj", "limit": 20}
    assert filters.query(cursor="bmV4dA==") == {"topic": "fundraising", "direction": "share", "language": "ar",
                                                "group_type": "chapter", "cursor": "bmV4dA=="}
    assert DirectoryFilters.from_query({"language": "not a language", "topic": "<script>"}).api_params(5) == {
        "limit": 5}


def test_clinic_filters_and_their_pages():
    filters = ClinicFilters.from_query({"kind": "monthly", "language": "fr", "page": "2"})
    assert filters.api_params() == {"language": "fr", "kind": "monthly"}
    assert filters.query(page=1) == {"language": "fr", "kind": "monthly"}
    assert ClinicFilters.from_query({"page": "-3"}).page == 1
    assert page_of(list(range(45)), 3, 20) == ([40, 41, 42, 43, 44], False)
    assert page_of(list(range(45)), 1, 20)[1] is True


def test_resource_search_text_is_cut_to_what_the_api_takes():
    filters = ResourceFilters.from_query({"q": "  plan " + "x" * 300, "kind": "deck", "topic": "governance"})
    assert len(filters.q) == 200 and filters.kind == "deck" and filters.active
    assert not ResourceFilters.from_query({"cursor": "abc"}).active
