"""Events the registry produces. Participant events carry the whole state a consumer needs."""
from marshmallow import Schema, fields, validate

from shared.tokens import STAFF_ROLES
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


class SignInRequestedSchema(Schema):
    """Someone asked for a sign-in link: the notifier mails a single-use link (a `signin` link token
    for `request_id`, expiring at `expires_at`) to the address it holds for the subject. No address
    and no token travel in the event."""

    request_id = Id(required=True)
    audience = fields.String(required=True, validate=validate.OneOf(("participant", "staff")))
    subject_id = Id(required=True)
    expires_at = fields.String(required=True)
    language = Lang(load_default=None, allow_none=True)


class StaffAccountSchema(Schema):
    """A named staff account as it now stands (created, roles changed, removed). A removed account
    carries no name or address."""

    staff_id = Id(required=True)
    revision = fields.Integer(required=True, validate=validate.Range(min=1))
    status = fields.String(required=True, validate=validate.OneOf(("active", "removed")))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF_ROLES)), required=True)
    email = fields.Email(load_default=None, allow_none=True)
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    languages = fields.List(Lang(), load_default=list)
    tokens_valid_after = fields.String(load_default=None, allow_none=True)
    changed_by = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))


EVENTS = {
    "participant-registered": (1, ParticipantStateSchema, "participant_id"),
    "participant-updated": (1, ParticipantStateSchema, "participant_id"),
    "participant-withdrawn": (1, ParticipantWithdrawnSchema, "participant_id"),
    "skill-registered": (1, SkillSchema, "participant_id"),
    "skill-withdrawn": (1, SkillWithdrawnSchema, "participant_id"),
    "sign-in-requested": (1, SignInRequestedSchema, "subject_id"),
    "staff-account-changed": (1, StaffAccountSchema, "staff_id"),
}
