"""Request and response shapes (marshmallow; flask-smorest turns them into 422s and OpenAPI)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from shared.events.fields import REGIONS
from shared.validation import language_code, no_control_characters, safe_url, single_line, time_zone

KINDS = ("monthly", "quarterly")
SPACE_KINDS = ("community_of_practice", "periodic_meeting", "chat_group", "mentoring_program")


EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(3000, 1, 1, tzinfo=timezone.utc)
ID = validate.Length(min=1, max=64)
SHORT = validate.Length(max=80)


class UtcDateTime(fields.AwareDateTime):
    """An ISO 8601 time with an offset (Z or +hh:mm), kept in UTC, between 1970 and 2999 (a time
    near the ends of the calendar cannot be moved into every zone a feed may be written in)."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(timezone.utc)
        except (OverflowError, ValueError) as exc:
            raise ValidationError("must be between 1970 and 2999") from exc
        if not EARLIEST <= moment < LATEST:
            raise ValidationError("must be between 1970 and 2999")
        return moment


def _day_in_range(value: date) -> None:
    if not date(1970, 1, 1) <= value < date(3000, 1, 1):
        raise ValidationError("must be between 1970 and 2999")


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
            minutes = int((end - data["start"]).total_seconds() // 60)
            if not 1 <= minutes <= 600:
                raise ValidationError({"end": ["a slot lasts 1 to 600 minutes"]})
            data["minutes"] = minutes
        return data


class ClinicIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True, validate=[validate.Length(min=3, max=200), single_line])
    description = fields.String(load_default="", validate=[validate.Length(max=5000), no_control_characters])
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                         validate=validate.Length(min=1, max=10), metadata={"description": "taxonomy codes"})
    sharers = fields.List(fields.String(validate=ID), load_default=list, validate=validate.Length(max=10),
                          metadata={"description": "participant ids of the presenters: each is told, holds a "
                                                   "place that takes no seat, and gets reminders"})
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
        if data.get("kind") == "quarterly" and not data.get("region") and not data.get("theme"):
            raise ValidationError({"region": ["a quarterly clinic is regional (region) or thematic (theme)"]})


class SlotChange(Schema):
    slot_id = fields.String(required=True, validate=ID)
    start = UtcDateTime(required=True)
    minutes = fields.Integer(load_default=90, validate=validate.Range(min=1, max=600))


class ClinicPatch(Schema):
    title = fields.String(validate=[validate.Length(min=3, max=200), single_line])
    description = fields.String(validate=[validate.Length(max=5000), no_control_characters])
    meeting_url = fields.String(allow_none=True, validate=safe_url)
    slots = fields.List(fields.Nested(SlotChange), validate=validate.Length(min=1, max=2),
                        metadata={"description": "new times for existing slot ids"})
    sharers = fields.List(fields.String(validate=ID), validate=validate.Length(max=10),
                          metadata={"description": "the presenters as they now are (added ones are told, "
                                                   "removed ones are told)"})


class ClinicQuery(Schema):
    topic = fields.String(load_default=None, validate=SHORT)
    language = fields.String(load_default=None, validate=SHORT)
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    include_past = fields.Boolean(load_default=False)


class RegistrationIn(Schema):
    participant = fields.String(required=True, validate=ID)
    slot = fields.String(required=True, validate=ID)
    interpretation = fields.String(load_default=None, allow_none=True, validate=language_code)


class CompletionIn(Schema):
    attendees = fields.List(fields.String(validate=ID), required=True, validate=validate.Length(max=2000))
    recording_url = fields.String(load_default=None, allow_none=True, validate=safe_url,
                                  metadata={"description": "published to the resource space only when every "
                                                           "attendee consented to recording (their own consent in "
                                                           "the registry), or after POST .../recording/confirm"})


class RecordingConfirmIn(Schema):
    not_recorded = fields.List(fields.String(validate=ID), required=True, validate=validate.Length(min=1, max=2000),
                               metadata={"description": "attendees who were not recorded: must include everyone "
                                                        "who did not consent"})


ANSWER = [validate.Length(max=2000), no_control_characters]


class FeedbackIn(Schema):
    participant = fields.String(required=True, validate=ID)
    useful = fields.Boolean(required=True)
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="", validate=ANSWER)
    what_was_useful = fields.String(load_default="", validate=ANSWER,
                                    metadata={"description": "follow-up: what was most useful to you?"})
    what_to_improve = fields.String(load_default="", validate=ANSWER,
                                    metadata={"description": "follow-up: what should we change next time?"})


class FeedbackQuery(Schema):
    topic = fields.String(load_default=None, validate=SHORT)
    since = UtcDateTime(load_default=None)
    cursor = fields.String(load_default=None, validate=validate.Length(max=512))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SuggestQuery(Schema):
    topic = fields.String(required=True, validate=SHORT)
    date = fields.Date(load_default=None, validate=_day_in_range,
                       metadata={"description": "the day to plan (default: 14 days ahead)"})
    minutes = fields.Integer(load_default=90, validate=validate.Range(min=15, max=600))


class SuggestTopicsQuery(Schema):
    limit = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))


class SuggestDatesQuery(Schema):
    region = fields.String(load_default=None, validate=validate.OneOf(REGIONS))
    theme = fields.String(load_default=None, validate=[validate.Length(max=200), single_line])
    topic = fields.List(fields.String(validate=SHORT), load_default=list, validate=validate.Length(max=10),
                        metadata={"description": "the theme's topics (repeat the parameter)"})
    minutes = fields.Integer(load_default=90, validate=validate.Range(min=15, max=600))
    limit = fields.Integer(load_default=4, validate=validate.Range(min=1, max=12))


class InterpretationResponseIn(Schema):
    response = fields.String(required=True, validate=validate.OneOf(("accept", "decline")))


class CalendarQuery(Schema):
    topic = fields.String(load_default=None, validate=SHORT)
    language = fields.String(load_default=None, validate=SHORT)
    tz = fields.String(load_default=None, validate=time_zone,
                       metadata={"description": "write local times in this zone (default UTC)"})


class FeedQuery(CalendarQuery):
    token = fields.String(required=True, validate=validate.Length(max=4096),
                          metadata={"description": "the feed's own link token (scope calendar.feed, from "
                                                   "POST /participants/{id}/calendar-feed)"})


class SpaceIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(SPACE_KINDS))
    title = fields.String(required=True, validate=[validate.Length(min=3, max=200), single_line])
    description = fields.String(load_default="", validate=[validate.Length(max=5000), no_control_characters])
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                         validate=validate.Length(min=1, max=10))
    languages = fields.List(fields.String(validate=language_code), required=True,
                            validate=validate.Length(min=1, max=10))
    region = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(REGIONS))
    link = fields.String(required=True, validate=safe_url)
    start = UtcDateTime(load_default=None, metadata={"description": "first meeting (UTC); spaces without one "
                                                                     "are listed but not in the calendar"})
    minutes = fields.Integer(load_default=60, validate=validate.Range(min=1, max=600))
    recurrence = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300),
                               metadata={"description": "RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=2TU (DAILY, "
                                                        "WEEKLY, MONTHLY or YEARLY); refused unless the public "
                                                        "calendar can render it"})


class SpacePatch(Schema):
    kind = fields.String(validate=validate.OneOf(SPACE_KINDS))
    title = fields.String(validate=[validate.Length(min=3, max=200), single_line])
    description = fields.String(validate=[validate.Length(max=5000), no_control_characters])
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=80)), validate=validate.Length(min=1, max=10))
    languages = fields.List(fields.String(validate=language_code), validate=validate.Length(min=1, max=10))
    region = fields.String(allow_none=True, validate=validate.OneOf(REGIONS))
    link = fields.String(validate=safe_url)
    start = UtcDateTime(allow_none=True)
    minutes = fields.Integer(validate=validate.Range(min=1, max=600))
    recurrence = fields.String(allow_none=True, validate=validate.Length(max=300))


class SpaceQuery(Schema):
    topic = fields.String(load_default=None, validate=SHORT)
    language = fields.String(load_default=None, validate=SHORT)
    kind = fields.String(load_default=None, validate=validate.OneOf(SPACE_KINDS))
    region = fields.String(load_default=None, validate=SHORT)


class SpaceImportQuery(Schema):
    kind = fields.String(load_default="periodic_meeting", validate=validate.OneOf(SPACE_KINDS),
                         metadata={"description": "the kind every imported space takes"})
    topic = fields.List(fields.String(validate=validate.Length(min=1, max=80)), load_default=list,
                        validate=validate.Length(max=10),
                        metadata={"description": "topics for events whose CATEGORIES name no topic code"})
    language = fields.List(fields.String(validate=language_code), load_default=lambda: ["en"],
                           validate=validate.Length(min=1, max=10))
    region = fields.String(load_default=None, validate=validate.OneOf(REGIONS))
