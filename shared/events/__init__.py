"""Event envelope, topic catalogue and per-type schemas (see docs/events/ for the JSON Schemas)."""
from shared.events.catalogue import ALL_TOPICS, DLQ_TOPICS, EVENT_TYPES, TOPICS, dlq_of
from shared.events.envelope import EventInvalid, encode, make_event, parse_event, utcnow_iso

__all__ = ["ALL_TOPICS", "DLQ_TOPICS", "EVENT_TYPES", "TOPICS", "dlq_of", "EventInvalid", "encode",
           "make_event", "parse_event", "utcnow_iso"]
