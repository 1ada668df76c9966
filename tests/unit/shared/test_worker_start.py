"""A worker process started before MongoDB waits for it instead of exiting."""
import pytest
from pymongo.errors import ServerSelectionTimeoutError

from shared.config import Settings
from shared.worker import build_when_reachable


def test_a_worker_waits_out_an_unreachable_database_with_growing_pauses():
    attempts, pauses = [], []

    def build(settings):
        attempts.append(settings)
        if len(attempts) < 4:
            raise ServerSelectionTimeoutError("no servers found")
        return "the worker"

    assert build_when_reachable(build, Settings(), sleep=pauses.append, max_delay=3) == "the worker"
    assert len(attempts) == 4 and pauses == [1.0, 2.0, 3]


def test_other_start_failures_are_not_retried():
    def build(settings):
        raise ValueError("a bad setting")

    with pytest.raises(ValueError):
        build_when_reachable(build, Settings(), sleep=lambda s: pytest.fail("should not wait"))
