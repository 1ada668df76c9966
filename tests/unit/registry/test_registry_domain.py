"""The registry's rules without I/O: eligibility, usernames, skill events, CSV rows."""
import pytest

from services.registry.domain.eligibility import check
from services.registry.domain.imports import ImportFileError, read_rows, row_to_body
from services.registry.domain.skills import skill_changes
from services.registry.domain.usernames import canonical_username

GROUP = {"name": "Wikimedia Egypt", "type": "user_group"}


def test_an_organiser_in_a_group_is_eligible():
    verdict = check(GROUP, "board", "organising")
    assert verdict.eligible and verdict.reasons == [] and verdict.alternatives == []


def test_an_unrecognised_group_counts_as_organised():
    assert check({"name": "Wiki Club", "type": "unrecognized_group"}, "volunteer", "training_others").eligible


def test_someone_outside_any_organised_group_is_not_eligible():
    verdict = check(None, "volunteer", "organising")
    assert not verdict.eligible
    assert [r["code"] for r in verdict.reasons] == ["no_organised_group"]
    assert "affiliates" in verdict.alternatives[0]["text"]


def test_someone_with_no_organiser_role_is_not_eligible():
    verdict = check(GROUP, "none", "organising")
    assert [r["code"] for r in verdict.reasons] == ["no_organiser_role"]


def test_a_newcomer_wanting_skills_only_for_their_own_editing_is_not_eligible():
    verdict = check(GROUP, "active_contributor", "own_editing")
    assert [r["code"] for r in verdict.reasons] == ["own_editing_only"]
    assert "newcomers" in verdict.alternatives[0]["text"]


def test_every_unmet_criterion_is_named_with_an_alternative():
    verdict = check(None, "none", "own_editing")
    assert len(verdict.reasons) == len(verdict.alternatives) == 3
    assert all(alt["url"].startswith("https://meta.wikimedia.org/") for alt in verdict.alternatives)


@pytest.mark.parametrize("raw, canonical", [
    ("ahmed_Example", "Ahmed Example"), ("  ahmed   example ", "Ahmed example"),
    ("e\u0301mile", "\u00c9mile"), ("أحمد", "أحمد"), ("iPhone_fan", "IPhone fan"),
])
def test_usernames_compare_as_mediawiki_does(raw, canonical):
    assert canonical_username(raw) == canonical


def profile(**changes):
    data = {"languages": ["ar"], "timezone": "Africa/Cairo", "region": "mena", "group": GROUP,
            "consent": {"share_contact": True},
            "interests": [{"topic": "a", "direction": "learn", "note": None, "level": None},
                          {"topic": "b", "direction": "share", "note": None, "level": None}]}
    data.update(changes)
    return data


def test_only_added_or_changed_interests_are_announced_and_removed_ones_withdrawn():
    after = profile(interests=[{"topic": "a", "direction": "learn", "note": "more", "level": None},
                               {"topic": "c", "direction": "learn", "note": None, "level": None}])
    announce, withdraw = skill_changes(profile(), after)
    assert [i["topic"] for i in announce] == ["a", "c"]
    assert [i["topic"] for i in withdraw] == ["b"]
    assert skill_changes(profile(), profile()) == ([], [])


@pytest.mark.parametrize("field, value", [("languages", ["ar", "fr"]), ("timezone", "Europe/Paris"),
                                          ("region", "nwe"), ("group", None),
                                          ("consent", {"share_contact": False})])
def test_a_change_the_matcher_needs_re_announces_every_interest(field, value):
    announce, withdraw = skill_changes(profile(), profile(**{field: value}))
    assert len(announce) == 2 and withdraw == []


def test_csv_rows_map_columns_and_lists_and_consent_words():
    text = "\ufeffUser;Mail;Langs;TZ;Region;Group;Learn;Share;Public\n" \
           "Amina;amina@example.org;sw, en;Africa/Nairobi;SSA;WM Kenya;budget-development;fundraising;نعم\n"
    mapping = {"username": "User", "email": "Mail", "languages": "Langs", "timezone": "TZ", "region": "Region",
               "group_name": "Group", "learn_topics": "Learn", "share_topics": "Share", "public_profile": "Public"}
    [row] = read_rows(text, mapping)
    body = row_to_body(row)
    assert body["languages"] == ["sw", "en"] and body["region"] == "ssa"
    assert body["group"] == {"name": "WM Kenya", "type": "user_group"}
    assert body["interests"] == [{"topic": "budget-development", "direction": "learn"},
                                 {"topic": "fundraising", "direction": "share"}]
    assert body["consent"]["public_profile"] is True and body["consent"]["recording"] is False


def test_csv_without_required_columns_or_with_an_unknown_mapping_is_refused():
    with pytest.raises(ImportFileError, match="email"):
        read_rows("username\nx\n")
    with pytest.raises(ImportFileError, match="unknown columns"):
        read_rows("username,email\nx,y\n", {"shoe_size": "Size"})
