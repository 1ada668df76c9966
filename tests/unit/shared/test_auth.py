"""Participant tokens: signed, expiring, rotatable, revocable."""
import pytest

from shared.auth import TokenError, is_staff_token, issue_participant_token, verify_participant_token
from shared.config import Settings

NOW = 1_800_000_000


def settings(**kw):
    return Settings(secret_keys={"k2": "new-secret", "k1": "old-secret"}, **kw)


def test_a_token_names_its_participant():
    token = issue_participant_token(settings(), "p1", now=NOW)
    claims = verify_participant_token(settings(), token, now=NOW + 10)
    assert claims.participant_id == "p1" and claims.key_id == "k2"


def test_a_tampered_token_is_refused():
    token = issue_participant_token(settings(), "p1", now=NOW)
    head, payload, signature = token.split(".")
    forged = issue_participant_token(settings(), "p2", now=NOW).split(".")[1]
    with pytest.raises(TokenError, match="signature"):
        verify_participant_token(settings(), f"{head}.{forged}.{signature}", now=NOW)


def test_expired_tokens_are_refused():
    token = issue_participant_token(settings(token_ttl_days=1), "p1", now=NOW)
    with pytest.raises(TokenError, match="expired"):
        verify_participant_token(settings(), token, now=NOW + 2 * 86400)


def test_old_key_still_verifies_until_retired():
    old = issue_participant_token(Settings(secret_keys={"k1": "old-secret"}), "p1", now=NOW)
    assert verify_participant_token(settings(), old, now=NOW).key_id == "k1"
    with pytest.raises(TokenError, match="retired"):
        verify_participant_token(Settings(secret_keys={"k2": "new-secret"}), old, now=NOW)


def test_single_tokens_and_older_tokens_can_be_revoked():
    token = issue_participant_token(settings(), "p1", now=NOW)
    token_id = verify_participant_token(settings(), token, now=NOW).token_id
    with pytest.raises(TokenError, match="revoked"):
        verify_participant_token(settings(revoked_tokens=(token_id,)), token, now=NOW)
    with pytest.raises(TokenError, match="newer"):
        verify_participant_token(settings(), token, now=NOW + 100, valid_after="2027-01-15T08:00:50Z")


def test_garbage_is_not_a_token():
    for junk in ("", "abc", "lc1.x.y", "lc1.e30.sig"):
        with pytest.raises(TokenError):
            verify_participant_token(settings(), junk, now=NOW)


def test_staff_tokens_come_from_configuration():
    configured = Settings(staff_tokens=("alpha", "beta"))
    assert is_staff_token(configured, "beta")
    assert not is_staff_token(configured, "gamma")
