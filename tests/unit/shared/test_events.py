"""The envelope, the topic catalogue and the exported JSON Schemas."""
import json
from pathlib import Path

import pytest

from shared.events import ALL_TOPICS, EVENT_TYPES, TOPICS, EventInvalid, encode, make_event, parse_event
from shared.events.export import json_schemas, render

DESIGN_TOPICS = {
    "participant-registered", "participant-updated", "participant-withdrawn", "skill-registered",
    "skill-withdrawn", "match-proposed", "match-accepted", "match-declined", "match-confirmed",
    "connection-completed", "clinic-scheduled", "clinic-invited", "clinic-registration-changed",
    "clinic-reminder", "session-completed", "feedback-submitted", "notification-sent", "notification-failed",
    "resource-published", "translation-requested",
}
# DESIGN.md section 8: a sign-in request, staff account changes, and what the clinic and matcher work adds.
SECOND_STAGE_TOPICS = {"sign-in-requested", "staff-account-changed", "match-joined", "match-left",
                       "connection-proposed"}


def withdrawn(pid="p1"):
    return {"participant_id": pid, "revision": 3, "withdrawn_at": "2026-11-24T10:00:00Z"}


def test_catalogue_has_exactly_the_designed_topics_and_their_dlq_twins():
    designed = DESIGN_TOPICS | SECOND_STAGE_TOPICS
    assert set(TOPICS) == designed
    assert set(ALL_TOPICS) == designed | {t + ".dlq" for t in designed}


def test_envelope_uses_cloudevents_names_and_the_subject_as_key():
    event = make_event("participant-withdrawn", "p1", withdrawn(), source="registry")
    assert set(event) == {"id", "type", "source", "specversion", "time", "subject", "dataversion",
                          "datacontenttype", "data"}
    assert event["type"] == "participant-withdrawn" and event["subject"] == "p1"
    assert event["time"].endswith("Z") and event["dataversion"] == 1
    assert parse_event(encode(event)) == {**event}


def test_a_producer_cannot_emit_what_its_schema_rejects():
    with pytest.raises(EventInvalid, match="revision"):
        make_event("participant-withdrawn", "p1", {"participant_id": "p1", "withdrawn_at": "x"}, "registry")
    with pytest.raises(EventInvalid, match="unknown event type"):
        make_event("participant-exploded", "p1", {}, "registry")


@pytest.mark.parametrize("raw, reason", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{nope", "not JSON"),
    (b"[1, 2]", "not a JSON object"),
    (json.dumps({"id": "1"}).encode(), "envelope rejected"),
])
def test_consumers_reject_malformed_events_with_a_reason(raw, reason):
    with pytest.raises(EventInvalid, match=reason):
        parse_event(raw)


def test_consumers_tolerate_fields_added_by_newer_producers_but_not_newer_versions():
    event = make_event("participant-withdrawn", "p1", withdrawn(), "registry")
    event["data"]["added_later"] = True
    assert parse_event(json.dumps(event))["data"]["added_later"] is True
    event["dataversion"] = 99
    with pytest.raises(EventInvalid, match="newer"):
        parse_event(json.dumps(event))


def test_event_on_the_wrong_topic_is_rejected():
    event = make_event("participant-withdrawn", "p1", withdrawn(), "registry")
    with pytest.raises(EventInvalid, match="arrived on topic"):
        parse_event(json.dumps(event), expected_type="skill-withdrawn")


def test_exported_json_schemas_are_up_to_date():
    folder = Path(__file__).resolve().parents[3] / "docs" / "events"
    expected = json_schemas()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in folder.glob("*.json")}
    assert set(on_disk) == set(expected), "run `make schemas`"
    for name, document in expected.items():
        assert on_disk[name] == render(document), f"{name} is stale: run `make schemas`"
    assert len(expected) == len(EVENT_TYPES)
