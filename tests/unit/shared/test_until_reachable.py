"""A process started before MongoDB waits for it instead of failing."""
import pytest
from pymongo.errors import ServerSelectionTimeoutError

from shared.mongo import until_reachable


def test_an_unreachable_database_is_waited_out_with_growing_pauses():
    attempts, pauses = [], []

    def start():
        attempts.append(1)
        if len(attempts) < 4:
            raise ServerSelectionTimeoutError("no servers found")
        return "started"

    assert until_reachable(start, "test", sleep=pauses.append, max_delay=3) == "started"
    assert len(attempts) == 4 and pauses == [1.0, 2.0, 3]


def test_other_failures_are_not_retried():
    def start():
        raise ValueError("a bad setting")

    with pytest.raises(ValueError):
        until_reachable(start, "test", sleep=lambda seconds: pytest.fail("should not wait"))
