"""The person's own pages, decided without I/O: the profile as the registration form and back, which
token a page acts with, and a proposal's reasons in words."""
from services.portal.domain.account import (
    LINK, SESSION, Bearer, choose_access, my_role, profile_form, reason_words, update_body,
)
from services.portal.domain.registration import registration_body

PROFILE = {
    "id": "p1", "username": "Amina", "name": "Amina", "email": "amina@example.org", "languages": ["fr", "ar"],
    "timezone": "Africa/Algiers", "region": "mena", "group": {"name": "Wikimedia Algeria", "type": "user_group"},
    "role": "core_team", "purpose": "organising", "activities": ["training"],
    "interests": [{"topic": "fundraising", "direction": "learn", "note": "Local sponsors"},
                  {"topic": "newcomer-training", "direction": "share", "note": None}],
    "consent": {"public_profile": True, "share_contact": False, "recording": True},
}


def test_the_profile_fills_the_registration_form_and_comes_back_unchanged():
    form = profile_form(PROFILE)
    assert form["group_name"] == ["Wikimedia Algeria"] and form["learn"] == ["fundraising"]
    assert form["learn_note_fundraising"] == ["Local sponsors"] and form["consent_share_contact"] == []
    body = registration_body(form)
    assert {k: body[k] for k in ("languages", "group", "activities", "consent", "region")} == {
        k: PROFILE[k] for k in ("languages", "group", "activities", "consent", "region")}
    assert body["interests"] == PROFILE["interests"]


def test_the_update_never_sends_the_username_and_a_group_can_be_left():
    form = {**profile_form(PROFILE), "group_name": [""], "group_type": [""]}
    body = update_body(form)
    assert "username" not in body and body["group"] is None and body["name"] == "Amina"


SESSION_BEARER = ("session-token", Bearer("participant", "p1"))


def test_a_link_is_used_only_for_its_own_scope_and_resource_else_the_session():
    link = ("link-token", Bearer("link", "p1", "match.respond", "m1"))
    found = choose_access(("match.respond", "match.outcome"), "m1", link, SESSION_BEARER)
    assert (found.token, found.participant, found.via) == ("link-token", "p1", LINK)
    elsewhere = choose_access(("match.respond",), "m2", link, SESSION_BEARER)
    assert (elsewhere.token, elsewhere.via) == ("session-token", SESSION)
    assert choose_access(("clinic.register",), "m1", link, None) is None
    assert choose_access(("preferences",), None, ("t", Bearer("link", "p1", "preferences", "p1")), None).via == LINK


def test_reasons_in_words_from_the_codes():
    words = reason_words(["language:fr", "overlap:150", "topic:fundraising", "same_region", "unknown:x"])
    assert [params for _, params in words] == [{"language": "fr"}, {"hours": 2, "minutes": "30"},
                                              {"topic": "fundraising"}, {}]
    assert reason_words([]) == []


def test_my_place_in_a_match():
    match = {"participants": [{"id": "p1", "role": "learner"}, {"id": "p2", "role": "sharer"}]}
    assert my_role(match, "p2")["role"] == "sharer" and my_role(match, "p3") is None


def test_a_meeting_time_typed_in_the_viewers_zone_is_sent_in_utc():
    from services.portal.domain.account import meeting_start

    assert meeting_start("2026-12-10T15:30", "Africa/Cairo") == "2026-12-10T13:30:00Z"
    assert meeting_start("", "Africa/Cairo") is None and meeting_start("tomorrow", "UTC") is None
