"""A profile's life as pure data: registration, changes, reissue, erasure, and the events each needs."""
import pytest

from services.registry.domain.errors import NotEligible
from services.registry.domain.profiles import (
    change_events, changed_profile, consent_record, erased, new_profile, reissued,
)

GROUP = {"name": "Wikimedia Egypt", "type": "user_group"}


def body(**changes):
    data = {"username": "ahmed_example", "name": "Ahmed", "email": "Ahmed@Example.org", "languages": ["ar", "en"],
            "timezone": "Africa/Cairo", "region": "mena", "group": GROUP, "role": "board", "purpose": "organising",
            "activities": ["training"],
            "interests": [{"topic": "budget-development", "direction": "learn"},
                          {"topic": "newcomer-training", "direction": "share", "note": "case study"}],
            "consent": {"public_profile": True, "share_contact": False, "recording": True}}
    data.update(changes)
    return data


def registered(**changes):
    profile, _ = new_profile(body(**changes), participant_id="p1", now="2026-11-01T10:00:00.000Z",
                             directory_suffix="abc123")
    return profile


def test_a_registration_stores_a_canonical_username_shaped_interests_and_consent_times():
    profile = registered()
    assert profile["_id"] == "p1" and profile["revision"] == 1
    assert profile["username"] == profile["username_key"] == "Ahmed example"
    assert profile["directory_key"] == "ahmed example\x00abc123"
    assert profile["interests"][0] == {"topic": "budget-development", "direction": "learn", "note": None,
                                       "level": None}
    assert profile["consent"]["given_at"] == {"public_profile": "2026-11-01T10:00:00.000Z",
                                              "recording": "2026-11-01T10:00:00.000Z", "share_contact": None}
    assert profile["tokens_valid_after"] is None and profile["source"] == "api"


def test_an_ineligible_registration_is_refused_with_its_verdict():
    with pytest.raises(NotEligible) as refused:
        new_profile(body(group=None, role="none"), participant_id="p1", now="t", directory_suffix="x")
    assert [r["code"] for r in refused.value.verdict.reasons] == ["no_organised_group", "no_organiser_role"]


def test_a_change_that_changes_nothing_keeps_the_revision():
    before = registered()
    same = changed_profile(before, {"name": "Ahmed", "interests": body()["interests"]}, "2026-11-02T00:00:00.000Z")
    assert same is before


def test_a_real_change_is_the_next_revision_and_keeps_what_was_not_named():
    before = registered()
    after = changed_profile(before, {"timezone": "Europe/Paris"}, "2026-11-02T00:00:00.000Z")
    assert after["revision"] == 2 and after["timezone"] == "Europe/Paris"
    assert after["updated_at"] == "2026-11-02T00:00:00.000Z" and after["name"] == "Ahmed"
    assert before["timezone"] == "Africa/Cairo"  # the argument is left alone


def test_a_change_that_breaks_the_checklist_is_refused():
    with pytest.raises(NotEligible):
        changed_profile(registered(), {"purpose": "own_editing"}, "now")


def test_consent_keeps_the_time_it_was_first_given_and_forgets_it_when_withdrawn():
    first = consent_record({"public_profile": True, "share_contact": True, "recording": False}, None, "t1")
    again = consent_record({"public_profile": True, "share_contact": False, "recording": True}, first, "t2")
    assert again["given_at"] == {"public_profile": "t1", "share_contact": None, "recording": "t2"}


def test_a_change_naming_some_consent_flags_keeps_the_others():
    # a PATCH's nested consent is partial (issue 12: the fuzzer's {"consent": {"recording": true}} was a 500)
    before = registered()
    after = changed_profile(before, {"consent": {"recording": False}}, "2026-11-02T10:00:00.000Z")
    assert {k: after["consent"][k] for k in ("public_profile", "share_contact", "recording")} == {
        "public_profile": True, "share_contact": False, "recording": False}
    assert after["consent"]["given_at"]["public_profile"] == before["consent"]["given_at"]["public_profile"]
    assert changed_profile(before, {"consent": {}}, "later") is before


def test_a_reissue_moves_the_cut_off_and_the_revision():
    after = reissued(registered(), "2026-11-03T00:00:00.123456Z", "2026-11-03T00:00:00.123Z")
    assert after["tokens_valid_after"] == "2026-11-03T00:00:00.123456Z" and after["revision"] == 2


def test_erasure_leaves_a_tombstone_with_nothing_personal():
    tombstone, event = erased(registered(), "2026-12-01T00:00:00.000Z")
    assert set(tombstone) == {"_id", "revision", "withdrawn_at"} and tombstone["revision"] == 2
    assert "Ahmed" not in repr(tombstone) and "example.org" not in repr(tombstone).lower()
    assert event == {"participant_id": "p1", "revision": 2, "withdrawn_at": "2026-12-01T00:00:00.000Z"}


def test_a_registration_announces_the_person_then_each_interest():
    profile = registered()
    assert [kind for kind, _ in change_events({}, profile)] == [
        "participant-registered", "skill-registered", "skill-registered"]


def test_a_change_announces_an_update_and_only_the_interests_that_changed():
    before = registered()
    after = changed_profile(before, {"interests": [{"topic": "budget-development", "direction": "learn"},
                                                   {"topic": "fundraising", "direction": "learn"}]}, "t")
    events = change_events(before, after)
    assert [(kind, data.get("topic")) for kind, data in events] == [
        ("participant-updated", None), ("skill-registered", "fundraising"), ("skill-withdrawn", "newcomer-training")]
    assert all(data["revision"] == 2 for _, data in events)
