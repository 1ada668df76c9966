"""The pure rules behind the outbox's retained log: what an event names, what erasure removes,
and when a broker no longer holds what was published to it."""
from datetime import datetime, timezone

import bson
from hypothesis import given
from hypothesis import strategies as st

from shared.broker_reset import lost_records, parse_partition_key, partition_key
from shared.outbox import log_entries, mentions, without_people

PUBLISHED = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)


def event(event_type: str, subject: str, data: dict) -> dict:
    return {"id": f"e-{subject}-{event_type}", "type": event_type, "subject": subject, "data": data}


def test_an_event_names_its_subject_and_the_ids_in_its_data_wherever_they_are():
    proposed = event("match-proposed", "m1", {"match_id": "m1", "participants": [
        {"id": "p-learner", "role": "learner"}, {"id": "p-sharer", "role": "sharer"}],
        "reasons": ["You both speak Arabic and organise edit-a-thons."]})
    named = mentions(proposed)
    assert {"m1", "p-learner", "p-sharer"} <= named
    assert "You both speak Arabic and organise edit-a-thons." not in named  # free text is not an id


def test_a_timestamp_is_not_taken_for_an_id():
    withdrawn = event("participant-withdrawn", "p1", {"participant_id": "p1", "revision": 2,
                                                      "withdrawn_at": "2026-11-24T10:00:00Z",
                                                      "requested_at": "2026-11-24T09:59:58.123+01:00"})
    assert mentions(withdrawn) == {"p1"}


def test_erasure_keeps_other_peoples_events_and_the_erasure_event_itself():
    events = [
        event("participant-registered", "p1", {"participant_id": "p1", "email": "a@example.org"}),
        event("participant-registered", "p2", {"participant_id": "p2", "email": "b@example.org"}),
        event("match-proposed", "m1", {"participants": [{"id": "p1"}, {"id": "p3"}]}),
        event("participant-withdrawn", "p1", {"participant_id": "p1", "revision": 2}),
    ]
    kept = without_people(events, {"p1"})
    assert [(e["type"], e["subject"]) for e in kept] == [("participant-registered", "p2"),
                                                         ("participant-withdrawn", "p1")]


def row(row_id: int, *events: dict) -> dict:
    return {"_id": row_id, "events": list(events), "created_at": PUBLISHED}


def test_a_relayed_batch_enters_the_log_as_one_document_keyed_by_its_first_row():
    rows = [row(7, event("participant-registered", "p1", {"participant_id": "p1"})),
            row(8, event("participant-updated", "p2", {"participant_id": "p2"}),
                event("match-proposed", "m1", {"participants": [{"id": "p2"}, {"id": "p3"}]}))]
    [entry] = log_entries(rows, set(), PUBLISHED)
    assert entry["_id"] == 7 and entry["published_at"] == PUBLISHED
    assert [e["subject"] for e in entry["events"]] == ["p1", "p2", "m1"]  # the rows' order, then each row's
    assert {"p1", "p2", "p3", "m1"} <= set(entry["mentions"])  # erasure finds the document by any of them


def test_a_forgotten_persons_events_stay_out_of_the_log_and_a_row_left_empty_is_skipped():
    rows = [row(1, event("participant-updated", "gone", {"participant_id": "gone"})),
            row(2, event("participant-registered", "p2", {"participant_id": "p2"})),
            row(3, event("participant-withdrawn", "gone", {"participant_id": "gone"}))]
    [entry] = log_entries(rows, {"gone"}, PUBLISHED)
    assert entry["_id"] == 2  # the first row that still has an event
    assert [(e["type"], e["subject"]) for e in entry["events"]] == [("participant-registered", "p2"),
                                                                    ("participant-withdrawn", "gone")]
    assert log_entries(rows[:1], {"gone"}, PUBLISHED) == []


@given(st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=30),
       st.integers(min_value=200, max_value=3000))
def test_a_batch_too_large_for_one_document_is_split_at_row_boundaries_in_order(events_per_row, budget):
    rows = [row(i, *(event("participant-updated", f"p{i}-{j}", {"participant_id": f"p{i}-{j}", "bio": "x" * 80})
                     for j in range(count))) for i, count in enumerate(events_per_row)]
    entries = log_entries(rows, set(), PUBLISHED, budget=budget)
    assert [e for entry in entries for e in entry["events"]] == [e for r in rows for e in r["events"]]
    assert [entry["_id"] for entry in entries] == sorted({entry["_id"] for entry in entries})
    for entry in entries:  # over the budget only when one row alone is
        too_big = len(bson.encode({"events": entry["events"]})) > budget
        assert not too_big or len({e["subject"].split("-")[0] for e in entry["events"]}) == 1


def test_a_broker_with_another_cluster_id_lost_everything():
    assert "changed" in lost_records("old", "new", {("t", 0): 5}, None)


def test_a_partition_ending_at_or_below_an_acknowledged_offset_lost_records():
    acked = {("participant-registered", 0): 41, ("participant-registered", 3): 7}
    assert lost_records("c", "c", acked, {("participant-registered", 0): 42, ("participant-registered", 3): 8}) is None
    assert "offset 7" in lost_records("c", "c", acked, {("participant-registered", 0): 42,
                                                        ("participant-registered", 3): 7})
    assert "gone" in lost_records("c", "c", acked, {("participant-registered", 0): 42})


def test_a_first_sight_or_an_unasked_broker_is_not_a_loss():
    assert lost_records(None, "c", {}, None) is None
    assert lost_records("c", "c", {("t", 0): 1}, None) is None


def test_partition_keys_survive_topic_names_with_dashes_and_prefixes():
    key = partition_key("t1a2-participant-registered", 5)
    assert "." not in key
    assert parse_partition_key(key) == ("t1a2-participant-registered", 5)
