"""Event ages for the latency histograms."""
from datetime import datetime, timezone

from shared.metrics import age_seconds


def test_age_is_seconds_since_the_cloudevents_time():
    now = datetime(2026, 11, 24, 10, 0, 1, 250000, tzinfo=timezone.utc)
    assert age_seconds("2026-11-24T10:00:00.000Z", now) == 1.25
    assert age_seconds(datetime(2026, 11, 24, 10, 0, 0), now) == 1.25  # a naive time is UTC


def test_a_producer_clock_ahead_of_ours_gives_zero_not_a_negative_age():
    now = datetime(2026, 11, 24, 10, 0, 0, tzinfo=timezone.utc)
    assert age_seconds("2026-11-24T10:00:00.300Z", now) == 0.0
