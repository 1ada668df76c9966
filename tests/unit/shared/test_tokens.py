"""Tokens: three kinds, one verifier (signature, key, expiry, revocation, reissue, erasure, scope)."""
import base64
import json

import pytest

from shared.config import Settings
from shared.tokens import (
    SCOPES, SubjectErased, SubjectStatus, TokenError, authenticate, issue_link_token, issue_participant_token,
    issue_staff_token, verify_participant_token, verify_token,
)

NOW = 1_800_000_000.25


def settings(**kw):
    return Settings(secret_keys={"k2": "new-secret", "k1": "old-secret"}, **kw)


def test_a_session_token_names_its_participant():
    token = issue_participant_token(settings(), "p1", now=NOW)
    found = verify_token(settings(), token, now=NOW + 10)
    assert (found.kind, found.subject) == ("participant", "p1")
    assert found.is_participant("p1") and not found.is_participant("p2") and not found.is_staff


def test_a_tampered_token_is_refused():
    token = issue_participant_token(settings(), "p1", now=NOW)
    head, _, signature = token.split(".")
    forged = issue_participant_token(settings(), "p2", now=NOW).split(".")[1]
    with pytest.raises(TokenError, match="signature"):
        verify_token(settings(), f"{head}.{forged}.{signature}", now=NOW)


def test_expired_tokens_are_refused():
    token = issue_participant_token(settings(token_ttl_days=1), "p1", now=NOW)
    with pytest.raises(TokenError, match="expired"):
        verify_token(settings(), token, now=NOW + 2 * 86400)


def test_old_key_still_verifies_until_retired():
    old = issue_participant_token(Settings(secret_keys={"k1": "old-secret"}), "p1", now=NOW)
    assert verify_token(settings(), old, now=NOW).subject == "p1"
    with pytest.raises(TokenError, match="retired"):
        verify_token(Settings(secret_keys={"k2": "new-secret"}), old, now=NOW)


def test_single_tokens_can_be_revoked():
    token = issue_participant_token(settings(), "p1", now=NOW)
    token_id = verify_token(settings(), token, now=NOW).token_id
    with pytest.raises(TokenError, match="revoked"):
        verify_token(settings(revoked_tokens=(token_id,)), token, now=NOW)


def test_a_token_issued_before_a_reissue_in_the_same_second_is_refused():
    before = issue_participant_token(settings(), "p1", now=NOW + 0.1)
    after = issue_participant_token(settings(), "p1", now=NOW + 0.2)
    cut_off = SubjectStatus(valid_after=NOW + 0.2)
    with pytest.raises(TokenError, match="newer"):
        verify_token(settings(), before, now=NOW + 1, status=lambda kind, subject: cut_off)
    assert verify_token(settings(), after, now=NOW + 1, status=lambda kind, subject: cut_off).subject == "p1"
    with pytest.raises(TokenError, match="newer"):
        verify_participant_token(settings(), before, now=NOW + 1, valid_after="2027-01-15T08:00:00.450000Z")


def test_the_token_of_an_erased_participant_is_refused_as_gone():
    token = issue_participant_token(settings(), "p1", now=NOW)
    with pytest.raises(SubjectErased):
        verify_token(settings(), token, now=NOW, status=lambda kind, subject: SubjectStatus(erased=True))


def test_a_link_token_carries_one_action_on_one_thing():
    token = issue_link_token(settings(), "p1", "match.respond", "m1", now=NOW)
    found = verify_token(settings(), token, now=NOW)
    assert found.holds_link("match.respond", "m1", "p1")
    assert not found.holds_link("match.respond", "m2", "p1")
    assert not found.holds_link("match.outcome", "m1", "p1")
    assert not found.holds_link("match.respond", "m1", "p2")
    assert not found.is_participant("p1"), "a link is not a session"
    with pytest.raises(TokenError, match="session"):
        verify_participant_token(settings(), token, now=NOW)


def test_a_link_expires_with_its_scope_or_earlier():
    token = issue_link_token(settings(), "p1", "signin", "r1", now=NOW)
    assert verify_token(settings(), token, now=NOW + 29 * 60).scope == "signin"
    with pytest.raises(TokenError, match="expired"):
        verify_token(settings(), token, now=NOW + 31 * 60)
    short = issue_link_token(settings(), "p1", "match.respond", "m1", now=NOW, expires_at=NOW + 60)
    with pytest.raises(TokenError, match="expired"):
        verify_token(settings(), short, now=NOW + 61)
    assert all(scope.ttl_seconds > 0 and scope.action for scope in SCOPES.values())


def test_staff_tokens_carry_roles_and_coordinators_may_everything():
    member = verify_token(settings(), issue_staff_token(settings(), "s1", ["working_group"], now=NOW), now=NOW)
    assert member.is_staff and member.has_role("working_group") and not member.has_role("translator")
    lead = verify_token(settings(), issue_staff_token(settings(), "s2", ["coordinator"], now=NOW), now=NOW)
    assert lead.has_role("translator")
    with pytest.raises(ValueError):
        issue_staff_token(settings(), "s3", ["emperor"])


def test_machine_tokens_come_from_configuration_with_a_role_each():
    configured = Settings(staff_tokens=("alpha", "beta:translator"))
    assert authenticate(configured, "alpha").has_role("working_group")  # no role: coordinator
    translator = authenticate(configured, "beta")
    assert translator.has_role("translator") and not translator.has_role("working_group")
    with pytest.raises(TokenError):
        authenticate(configured, "gamma")


def _forge(payload) -> str:
    return "lc1." + base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode() + ".sig"


@pytest.mark.parametrize("junk", [
    "", "abc", "lc1.x.y", "lc1.e30.sig", "lc1.!!!.sig", "lc1.e30", "lc1." + "A" * 5000 + ".sig", "lc1.é.sig",
    _forge([1, 2]), _forge({"sub": "p", "iat": 10 ** 400, "exp": 1, "kid": "k2", "jti": "j"}),
    _forge({"sub": 7, "iat": 1, "exp": 1, "kid": "k2", "jti": "j"}),
    _forge({"typ": "root", "sub": "p", "iat": 1, "exp": 1, "kid": "k2", "jti": "j"}),
])
def test_garbage_is_not_a_token(junk):
    with pytest.raises(TokenError):
        verify_token(settings(), junk, now=NOW)
