"""Which parked records `letsconnect dlq replay` sends back, decided without a broker."""
import json

import pytest

from letsconnect.dlq import DlqError, choose, event_topic, parse_parked, render_list


def parked_record(event_id: str, failed_at: str, topic: str = "t-skill-registered") -> bytes:
    event = json.dumps({"id": event_id, "type": "skill-registered", "subject": "p1", "data": {}})
    return json.dumps({"error": "PermanentError: boom", "attempts": 1, "consumer_group": "t-matcher", "topic": topic,
                       "partition": 0, "offset": 3, "failed_at": failed_at, "event": event}).encode()


def test_a_parked_record_keeps_the_original_event_text_and_names_it():
    parked = parse_parked("t-skill-registered.dlq", 2, 7, b"p1", parked_record("e1", "2026-11-24T10:00:00Z"))
    assert (parked.position, parked.event_id, parked.event_type, parked.subject) == ("2:7", "e1", "skill-registered", "p1")
    assert parked.replayable and json.loads(parked.event)["id"] == "e1"


@pytest.mark.parametrize("value", [b"\xff\xfe", b"[1, 2]", json.dumps({"error": "not JSON: x", "event": "{oops"}).encode()])
def test_anything_that_is_not_a_parked_event_is_shown_but_never_replayed(value):
    parked = parse_parked("t-skill-registered.dlq", 0, 0, None, value)
    assert not parked.replayable
    with pytest.raises(DlqError, match="not an event that can be replayed"):
        choose([parked], "0:0", False, {})


def test_an_id_chooses_the_newest_parking_of_that_event_and_a_position_chooses_exactly_one():
    older = parse_parked("d", 0, 1, b"p1", parked_record("e1", "2026-11-24T10:00:00Z"))
    newer = parse_parked("d", 3, 0, b"p1", parked_record("e1", "2026-11-24T11:00:00Z"))
    other = parse_parked("d", 1, 4, b"p2", parked_record("e2", "2026-11-24T09:00:00Z"))
    assert choose([older, newer, other], "e1", False, {}) == [newer]
    assert choose([older, newer, other], "0:1", False, {}) == [older]
    with pytest.raises(DlqError, match="no parked event"):
        choose([older], "e9", False, {})
    with pytest.raises(DlqError, match="say which"):
        choose([older], None, False, {})


def test_all_replays_every_event_not_replayed_before():
    first = parse_parked("d", 0, 1, b"p1", parked_record("e1", "2026-11-24T10:00:00Z"))
    second = parse_parked("d", 0, 2, b"p2", parked_record("e2", "2026-11-24T10:00:01Z"))
    broken = parse_parked("d", 0, 3, None, b"garbage")
    assert choose([first, second, broken], None, True, {"0:1": [{"by": "ops"}]}) == [second]


def test_the_topic_may_be_named_with_or_without_its_dlq_suffix_but_must_exist():
    assert event_topic("skill-registered") == event_topic("skill-registered.dlq") == "skill-registered"
    with pytest.raises(DlqError, match="unknown topic"):
        event_topic("no-such-topic")


def test_the_list_shows_reasons_and_replays_but_the_event_only_on_request():
    parked = [parse_parked("d", 0, 1, b"p1", parked_record("e1", "2026-11-24T10:00:00Z"))]
    from datetime import datetime, timezone

    history = {"0:1": [{"replayed_at": datetime(2026, 11, 24, 12, tzinfo=timezone.utc), "by": "ops@host"}]}
    text = render_list(parked, history)
    assert "event e1 (skill-registered, subject p1)" in text and "error: PermanentError: boom" in text
    assert "replayed 1 time(s), last 2026-11-24T12:00:00+00:00 by ops@host" in text
    assert '"data"' not in text and '"data"' in render_list(parked, history, show_events=True)
