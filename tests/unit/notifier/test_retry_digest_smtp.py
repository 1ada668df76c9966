import smtplib
from datetime import datetime, timedelta, timezone

import pytest

from services.notifier.domain.digest import digest_due
from services.notifier.domain.retry import backoff_seconds, classify, gives_up
from services.notifier.sending import parse_smtp_url


@pytest.mark.parametrize("exc, transient, code", [
    (smtplib.SMTPDataError(451, b"try later"), True, 451),
    (smtplib.SMTPDataError(550, b"no such mailbox"), False, 550),
    (smtplib.SMTPSenderRefused(421, b"busy", "a@x.org"), True, 421),
    (smtplib.SMTPRecipientsRefused({"a@x.org": (550, b"unknown")}), False, 550),
    (smtplib.SMTPRecipientsRefused({"a@x.org": (452, b"full")}), True, 452),
    (smtplib.SMTPConnectError(554, b"go away"), False, 554),
    (ConnectionRefusedError(111, "Connection refused"), True, None),
    (smtplib.SMTPServerDisconnected("gone"), True, None),
    (TimeoutError("timed out"), True, None),
])
def test_4xx_and_network_trouble_are_transient_5xx_permanent(exc, transient, code):
    failure = classify(exc)
    assert (failure.transient, failure.code) == (transient, code)
    assert failure.error


def test_backoff_doubles_is_capped_and_jittered():
    middle = lambda: 0.5  # noqa: E731  (jitter factor 1.0)
    assert [backoff_seconds(n, 30, 3600, middle) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(20, 30, 3600, middle) == 3600
    low, high = backoff_seconds(3, 30, 3600, lambda: 0.0), backoff_seconds(3, 30, 3600, lambda: 0.9999)
    assert low == 60 and 179 < high < 180


def test_give_up_on_permanent_failures_or_after_the_last_attempt():
    transient, permanent = classify(smtplib.SMTPDataError(451, b"")), classify(smtplib.SMTPDataError(550, b""))
    assert gives_up(permanent, 1, 6)
    assert not gives_up(transient, 5, 6) and gives_up(transient, 6, 6)


NOW = datetime(2026, 11, 24, 12, tzinfo=timezone.utc)


def test_a_digest_is_due_a_period_after_the_last_one():
    week = 7 * 86400
    assert not digest_due(NOW, None, None, week)
    assert not digest_due(NOW, None, NOW - timedelta(days=2), week)
    assert digest_due(NOW, None, NOW - timedelta(days=7), week)
    assert not digest_due(NOW, NOW - timedelta(days=3), NOW - timedelta(days=30), week)
    assert digest_due(NOW, NOW - timedelta(days=8), NOW - timedelta(hours=1), week)


def test_smtp_urls():
    plain = parse_smtp_url("smtp://127.0.0.1:2525")
    assert (plain.host, plain.port, plain.implicit_tls, plain.starttls, plain.username) == ("127.0.0.1", 2525, False, False, None)
    relay = parse_smtp_url("smtp://user%40x:p%3Ass@relay.example.org:587?starttls=1")
    assert (relay.port, relay.starttls, relay.username, relay.password) == (587, True, "user@x", "p:ss")
    assert parse_smtp_url("smtps://relay.example.org").port == 465
    with pytest.raises(ValueError):
        parse_smtp_url("http://relay")
