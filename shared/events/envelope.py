"""The CloudEvents-style envelope every event travels in."""
from __future__ import annotations

import json
import uuid
from functools import lru_cache

from shared.clock import utcnow_iso
from marshmallow import EXCLUDE, INCLUDE, RAISE, Schema, ValidationError, fields, validate

SPECVERSION = "1.0"


class EventInvalid(ValueError):
    """An event that must not be published or applied; `reason` says why, for the .dlq."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True)
    source = fields.String(required=True)
    specversion = fields.String(required=True, validate=validate.Equal(SPECVERSION))
    time = fields.String(required=True)
    subject = fields.String(required=True, validate=validate.Length(min=1, max=200))
    dataversion = fields.Integer(required=True, strict=True)
    datacontenttype = fields.String(load_default="application/json")
    data = fields.Dict(required=True)


@lru_cache(maxsize=None)
def _schema_instance(schema_class, unknown):
    return schema_class(unknown=unknown)  # building one is costly; instances are reusable


def _data_schema(event_type: str, unknown):
    from shared.events.catalogue import EVENT_TYPES

    spec = EVENT_TYPES.get(event_type)
    if spec is None:
        raise EventInvalid(f"unknown event type {event_type!r}")
    return spec, _schema_instance(spec.schema, unknown)


def make_event(event_type: str, subject: str, data: dict, source: str, event_id: str | None = None) -> dict:
    """Build a validated envelope; raises EventInvalid when `data` breaks its schema (a producer bug)."""
    spec, schema = _data_schema(event_type, RAISE)
    errors = schema.validate(data)
    if errors:
        raise EventInvalid(f"{event_type} data rejected by its schema: {json.dumps(errors, sort_keys=True)}")
    return {
        "id": event_id or str(uuid.uuid4()),
        "type": event_type,
        "source": source,
        "specversion": SPECVERSION,
        "time": utcnow_iso(),
        "subject": str(subject),
        "dataversion": spec.version,
        "datacontenttype": "application/json",
        "data": json.loads(json.dumps(data, default=str)),
    }


def parse_event(raw: bytes | str | dict, expected_type: str | None = None) -> dict:
    """Decode and validate a consumed event; tolerant of fields added by newer producers."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise EventInvalid(f"not UTF-8: {exc}") from exc
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise EventInvalid(f"not JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise EventInvalid("envelope is not a JSON object")
    try:
        envelope = EnvelopeSchema().load(raw)
    except ValidationError as exc:
        raise EventInvalid(f"envelope rejected: {json.dumps(exc.messages, sort_keys=True)}") from exc
    if expected_type and envelope["type"] != expected_type:
        raise EventInvalid(f"type {envelope['type']!r} arrived on topic {expected_type!r}")
    spec, schema = _data_schema(envelope["type"], INCLUDE)
    if envelope["dataversion"] > spec.version:
        raise EventInvalid(f"dataversion {envelope['dataversion']} is newer than {spec.version} known here")
    errors = schema.validate(envelope["data"])
    if errors:
        raise EventInvalid(f"{envelope['type']} data rejected: {json.dumps(errors, sort_keys=True)}")
    return envelope


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
