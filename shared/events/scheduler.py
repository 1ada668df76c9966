"""Events the scheduler produces; every one is keyed by the clinic id."""
from marshmallow import Schema, fields, validate

from shared.events.fields import Id, Lang, SlotSchema

KINDS = ("monthly", "quarterly")


class ClinicSchema(Schema):
    clinic_id = Id(required=True)
    revision = fields.Integer(load_default=1)
    change = fields.String(load_default="created", validate=validate.OneOf(("created", "updated", "cancelled")))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    description = fields.String(load_default="")
    topics = fields.List(fields.String(), required=True)
    sharers = fields.List(Id(), load_default=list)
    slots = fields.List(fields.Nested(SlotSchema), required=True, validate=validate.Length(min=1, max=2))
    language = Lang(required=True)
    interpretation = fields.List(Lang(), load_default=list)
    region = fields.String(load_default=None, allow_none=True)
    theme = fields.String(load_default=None, allow_none=True)


class ClinicInvitedSchema(Schema):
    clinic_id = Id(required=True)
    participant_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)
    slots = fields.List(fields.Nested(SlotSchema), required=True)
    language = Lang(required=True)
    interpretation = fields.List(Lang(), load_default=list)
    reason = fields.String(load_default=None, allow_none=True)


REGISTRATION_STATUSES = ("confirmed", "waitlisted", "cancelled")
CHANGE_REASONS = ("registered", "cancelled_by_participant", "promoted", "clinic_updated", "clinic_cancelled")


class RegistrationChangedSchema(Schema):
    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    participant_id = Id(required=True)
    status = fields.String(required=True, validate=validate.OneOf(REGISTRATION_STATUSES))
    reason = fields.String(required=True, validate=validate.OneOf(CHANGE_REASONS))
    position = fields.Integer(load_default=None, allow_none=True)
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)
    language = Lang(required=True)
    interpretation = Lang(load_default=None, allow_none=True)
    meeting_url = fields.String(load_default=None, allow_none=True)


class ClinicReminderSchema(Schema):
    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    participant_id = Id(required=True)
    lead = fields.String(required=True, validate=validate.OneOf(("24h", "1h")))
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)
    language = Lang(required=True)
    meeting_url = fields.String(load_default=None, allow_none=True)


class SessionCompletedSchema(Schema):
    clinic_id = Id(required=True)
    title = fields.String(required=True)
    kind = fields.String(load_default="monthly", validate=validate.OneOf(KINDS))
    topics = fields.List(fields.String(), required=True)
    language = Lang(required=True)
    sharers = fields.List(Id(), load_default=list)
    attendees = fields.List(Id(), required=True)
    recording_url = fields.String(load_default=None, allow_none=True)
    recording_consent = fields.Boolean(required=True)
    completed_at = fields.String(required=True)


class FeedbackSubmittedSchema(Schema):
    clinic_id = Id(required=True)
    participant_id = Id(required=True)
    useful = fields.Boolean(required=True)
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="")


EVENTS = {
    "clinic-scheduled": (1, ClinicSchema, "clinic_id"),
    "clinic-invited": (1, ClinicInvitedSchema, "clinic_id"),
    "clinic-registration-changed": (1, RegistrationChangedSchema, "clinic_id"),
    "clinic-reminder": (1, ClinicReminderSchema, "clinic_id"),
    "session-completed": (1, SessionCompletedSchema, "clinic_id"),
    "feedback-submitted": (1, FeedbackSubmittedSchema, "clinic_id"),
}
