"""Request and response shapes (marshmallow; flask-smorest turns them into 422s and OpenAPI)."""
from __future__ import annotations

from datetime import timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared.events.fields import REGIONS
from shared.validation import language_code, no_control_characters, safe_url, single_line, time_zone

KINDS = ("monthly", "quarterly")
SPACE_KINDS = ("community_of_practice", "periodic_meeting", "chat_group", "mentoring_program")


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset (Z or +hh:mm), kept in UTC."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return super()._deserialize(value, attr, data, **kwargs).astimezone(timezone.utc)


class SlotIn(Schema):
    start = UtcDateTime(required=True, metadata={"description": "UTC start, e.g. 2026-12-10T14:00:00Z"})
    minutes = fields.Integer(load_default=90, validate=validate.Range(min=1, max=600, error="the slot must end "
                                                                       "after it starts (1-600 minutes)"))
    end = UtcDateTime(load_default=None, metadata={"description": "alternative to minutes"})

    @post_load
    def _end_to_minutes(self, data, **_):
        end = data.pop("end", None)
        if end is not None:
            if end <= data["start"]:
                raise ValidationError({"end": ["the slot ends before it starts"]})
            data["minutes"] = int((end - data["start"]).total_seconds() // 60)
        return data


class ClinicIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True, validate=[validate.Length(min=3, max=200), single_line])
    description = fields.String(load_default="", validate=[validate.Length(max=5000), no_control_characters])
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                         validate=validate.Length(min=1, max=10), metadata={"description": "taxonomy codes"})
    sharers = fields.List(fields.String(validate=validate.Length(min=1, max=64)), load_default=list,
                          validate=validate.Length(max=10))
    slots = fields.List(fields.Nested(SlotIn), required=True, validate=validate.Length(min=1, max=2))
    language = fields.String(required=True, validate=language_code)
    interpretation = fields.List(fields.String(validate=language_code), load_default=list,
                                 validate=validate.Length(max=6))
    seats = fields.Integer(load_default=20, validate=validate.Range(min=1, max=1000))
    region = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(REGIONS))
    theme = fields.String(load_default=None, allow_none=True, validate=[validate.Length(max=200), single_line])
    meeting_url = fields.String(load_default=None, allow_none=True, validate=safe_url,
                                metadata={"description": "shown only to confirmed participants"})

    @validates_schema
    def _interpretation_differs(self, data, **_):
        if data.get("language") in data.get("interpretation", []):
            raise ValidationError({"interpretation": ["the main language needs no interpretation"]})
        if data.get("kind") == "monthly" and data.get("region"):
            raise ValidationError({"region": ["only quarterly clinics are regional"]})


class SlotChange(Schema):
    slot_id = fields.String(required=True)
    start = UtcDateTime(required=True)
    minutes = fields.Integer(load_default=90, validate=validate.Range(min=1, max=600))


class ClinicPatch(Schema):
    title = fields.String(validate=[validate.Length(min=3, max=200), single_line])
    description = fields.String(validate=[validate.Length(max=5000), no_control_characters])
    meeting_url = fields.String(allow_none=True, validate=safe_url)
    slots = fields.List(fields.Nested(SlotChange), validate=validate.Length(min=1, max=2),
                        metadata={"description": "new times for existing slot ids"})


class ClinicQuery(Schema):
    topic = fields.String(load_default=None)
    language = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    include_past = fields.Boolean(load_default=False)


class RegistrationIn(Schema):
    participant = fields.String(required=True, validate=validate.Length(min=1, max=64))
    slot = fields.String(required=True, validate=validate.Length(min=1, max=64))
    interpretation = fields.String(load_default=None, allow_none=True, validate=language_code)


class CompletionIn(Schema):
    attendees = fields.List(fields.String(validate=validate.Length(min=1, max=64)), required=True)
    recording_url = fields.String(load_default=None, allow_none=True, validate=safe_url)
    recording_consent = fields.Boolean(load_default=False,
                                       metadata={"description": "everyone recorded agreed to publication"})


class FeedbackIn(Schema):
    participant = fields.String(required=True, validate=validate.Length(min=1, max=64))
    useful = fields.Boolean(required=True)
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="", validate=[validate.Length(max=2000), no_control_characters])


class SuggestQuery(Schema):
    topic = fields.String(required=True)
    date = fields.Date(load_default=None, metadata={"description": "the day to plan (default: 14 days ahead)"})
    minutes = fields.Integer(load_default=90, validate=validate.Range(min=15, max=600))


class CalendarQuery(Schema):
    topic = fields.String(load_default=None)
    language = fields.String(load_default=None)
    tz = fields.String(load_default=None, validate=time_zone,
                       metadata={"description": "write local times in this zone (default UTC)"})


class FeedQuery(CalendarQuery):
    token = fields.String(required=True, metadata={"description": "the participant's own token"})


class SpaceIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(SPACE_KINDS))
    title = fields.String(required=True, validate=[validate.Length(min=3, max=200), single_line])
    description = fields.String(load_default="", validate=[validate.Length(max=5000), no_control_characters])
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                         validate=validate.Length(min=1, max=10))
    languages = fields.List(fields.String(validate=language_code), required=True, validate=validate.Length(min=1))
    region = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(REGIONS))
    link = fields.String(required=True, validate=safe_url)
    start = UtcDateTime(load_default=None, metadata={"description": "first meeting (UTC); spaces without one "
                                                                     "are listed but not in the calendar"})
    minutes = fields.Integer(load_default=60, validate=validate.Range(min=1, max=600))
    recurrence = fields.String(load_default=None, allow_none=True,
                               metadata={"description": "RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=2TU"})

    @validates_schema
    def _recurrence(self, data, **_):
        rule = data.get("recurrence")
        if not rule:
            return
        from dateutil.rrule import rrulestr
        try:
            rrulestr(rule, dtstart=data.get("start"))
        except (ValueError, TypeError) as exc:
            raise ValidationError({"recurrence": [f"not a valid RRULE: {exc}"]}) from exc
        if not data.get("start"):
            raise ValidationError({"start": ["a recurring space needs its first meeting time"]})


class SpaceQuery(Schema):
    topic = fields.String(load_default=None)
    language = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(SPACE_KINDS))
    region = fields.String(load_default=None)
