"""The rules behind `letsconnect status`, without a broker or a database."""
from datetime import datetime, timezone

from letsconnect.status import (DeadLetters, OutboxState, PartitionLag, ServiceHealth, Status, lag_rows,
                                newest_reasons, render)


def test_lag_is_the_end_minus_the_committed_offset_or_minus_the_beginning_where_nothing_was_committed():
    rows = lag_rows("matcher", committed={("skill-registered", 0): 7, ("skill-registered", 1): -1},
                    beginning={("skill-registered", 0): 0, ("skill-registered", 1): 2, ("skill-registered", 2): 0},
                    end={("skill-registered", 0): 10, ("skill-registered", 1): 5, ("skill-registered", 2): 0})
    assert [(row.partition, row.committed, row.lag) for row in rows] == [(0, 7, 3), (1, None, 3), (2, None, 0)]


def test_a_committed_offset_past_a_truncated_end_is_no_negative_lag():
    [row] = lag_rows("notifier", {("match-proposed", 0): 12}, {("match-proposed", 0): 0}, {("match-proposed", 0): 10})
    assert row.lag == 0


def test_the_newest_reasons_come_first_and_are_cut_short():
    parked = [{"failed_at": f"2026-11-24T10:00:0{i}Z", "consumer_group": "matcher", "error": "x" * 400 if i == 2 else f"e{i}"}
              for i in range(4)]
    newest = newest_reasons(parked, limit=3)
    assert [reason["failed_at"][-3:] for reason in newest] == ["03Z", "02Z", "01Z"]
    assert len(newest[1]["error"]) == 300


def sample_status() -> Status:
    return Status(
        services=[ServiceHealth("registry", True, True, {"mongo": "ok", "kafka": "ok", "indexes": "ok"}),
                  ServiceHealth("matcher", True, False, {"mongo": "ok", "kafka": "unreachable", "indexes": "ok"}),
                  ServiceHealth("notifier", False, False, {}, "ConnectionError")],
        lag=[PartitionLag("matcher", "skill-registered", 0, 4, 9, 5), PartitionLag("matcher", "skill-registered", 1, 3, 3, 0),
             PartitionLag("notifier", "match-proposed", 2, None, 2, 2)],
        outboxes=[OutboxState("registry", 3, "2026-11-24T10:00:00+00:00"), OutboxState("matcher", 0, None),
                  OutboxState("scheduler", None, None, "ServerSelectionTimeoutError: down")],
        parked=2,
        dead_letters=[DeadLetters("skill-registered.dlq", 0),
                      DeadLetters("match-proposed.dlq", 1, [{"failed_at": "2026-11-24T09:59:00Z",
                                                             "consumer_group": "notifier",
                                                             "error": "PermanentError: cannot render"}])])


def test_the_text_names_what_an_operator_must_look_at():
    text = render(sample_status(), now=datetime(2026, 11, 24, 10, 1, tzinfo=timezone.utc))
    assert "registry   healthy, ready" in text
    assert "matcher    healthy, NOT READY (kafka unreachable)" in text
    assert "notifier   DOWN (ConnectionError)" in text
    assert "matcher         5 behind  (2 partitions of 1 topics)" in text
    assert "skill-registered" in text and "partition 0: 5 behind (committed 4, end 9)" in text
    assert "partition 1:" not in text  # partitions without lag are counted, not listed
    assert "partition 2: 2 behind (committed none, end 2)" in text
    assert "registry   3 pending, oldest 2026-11-24T10:00:00+00:00 (60 s ago)" in text
    assert "scheduler  unavailable (ServerSelectionTimeoutError: down)" in text
    assert "2 parked message(s)" in text
    assert "dead letters: 1 in 1 of 2 .dlq topics" in text
    assert "notifier: PermanentError: cannot render" in text


def test_json_holds_every_partition_and_the_totals_add_up():
    status = sample_status()
    assert len(status.as_json()["lag"]) == 3
    assert status.total_lag["matcher"] == 5 and status.total_lag["notifier"] == 2
