"""The pure rules behind the outbox's retained log: what an event names, what erasure removes,
and when a broker no longer holds what was published to it."""
from shared.broker_reset import lost_records, parse_partition_key, partition_key
from shared.outbox import mentions, without_people


def event(event_type: str, subject: str, data: dict) -> dict:
    return {"id": f"e-{subject}-{event_type}", "type": event_type, "subject": subject, "data": data}


def test_an_event_names_its_subject_and_the_ids_in_its_data_wherever_they_are():
    proposed = event("match-proposed", "m1", {"match_id": "m1", "participants": [
        {"id": "p-learner", "role": "learner"}, {"id": "p-sharer", "role": "sharer"}],
        "reasons": ["You both speak Arabic and organise edit-a-thons."]})
    named = mentions(proposed)
    assert {"m1", "p-learner", "p-sharer"} <= named
    assert "You both speak Arabic and organise edit-a-thons." not in named  # free text is not an id


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
