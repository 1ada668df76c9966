"""Events the registry produces. Participant events carry the whole state a consumer needs."""
from marshmallow import Schema, fields, validate

from shared.events.fields import (
    PURPOSES, REGIONS, ROLES, ConsentSchema, GroupSchema, Id, InterestSchema, Lang,
)


class ParticipantStateSchema(Schema):
    """Snapshot of a participant at `revision` (participant-registered, participant-updated)."""

    participant_id = Id(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    username = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    languages = fields.List(Lang(), required=True, validate=validate.Length(min=1))
    timezone = fields.String(required=True)
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    group = fields.Nested(GroupSchema, allow_none=True, required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))
    activities = fields.List(fields.String(), load_default=list)
    interests = fields.List(fields.Nested(InterestSchema), required=True)
    consent = fields.Nested(ConsentSchema, required=True)
    registered_at = fields.String(required=True)
    tokens_valid_after = fields.String(load_default=None, allow_none=True)


class ParticipantWithdrawnSchema(Schema):
    participant_id = Id(required=True)
    revision = fields.Integer(required=True)
    withdrawn_at = fields.String(required=True)


class SkillSchema(Schema):
    """One interest plus what the matcher needs about its owner (it never calls the registry)."""

    participant_id = Id(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    topic = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(("learn", "share")))
    note = fields.String(load_default=None, allow_none=True)
    level = fields.String(load_default=None, allow_none=True)
    languages = fields.List(Lang(), required=True, validate=validate.Length(min=1))
    timezone = fields.String(required=True)
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    group = fields.Nested(GroupSchema, allow_none=True, required=True)
    share_contact = fields.Boolean(load_default=False)
    registered_at = fields.String(load_default=None, allow_none=True)


class SkillWithdrawnSchema(Schema):
    participant_id = Id(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    topic = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(("learn", "share")))


EVENTS = {
    "participant-registered": (1, ParticipantStateSchema, "participant_id"),
    "participant-updated": (1, ParticipantStateSchema, "participant_id"),
    "participant-withdrawn": (1, ParticipantWithdrawnSchema, "participant_id"),
    "skill-registered": (1, SkillSchema, "participant_id"),
    "skill-withdrawn": (1, SkillWithdrawnSchema, "participant_id"),
}
