"""Field building blocks the event schemas of every producer share."""
from marshmallow import Schema, fields, validate

from shared.validation import MAX_LANGUAGE_TAG

REGIONS = ("mena", "ssa", "sa", "esea", "ceeca", "nwe", "lac", "usca")
GROUP_TYPES = ("chapter", "thematic_org", "user_group", "unrecognized_group")
ROLES = ("volunteer", "core_team", "board", "staff", "active_contributor", "none")
PURPOSES = ("organising", "training_others", "own_editing")
DIRECTIONS = ("learn", "share")
LEVELS = ("beginner", "intermediate", "advanced")

Id = lambda **kw: fields.String(validate=validate.Length(min=1, max=64), **kw)  # noqa: E731
Lang = lambda **kw: fields.String(validate=validate.Length(min=2, max=MAX_LANGUAGE_TAG), **kw)  # noqa: E731


class GroupSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(GROUP_TYPES))


class ConsentSchema(Schema):
    public_profile = fields.Boolean(required=True)
    share_contact = fields.Boolean(required=True)
    recording = fields.Boolean(required=True)


class InterestSchema(Schema):
    topic = fields.String(required=True)
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    note = fields.String(load_default=None, allow_none=True)
    level = fields.String(load_default=None, allow_none=True)


class SlotSchema(Schema):
    slot_id = Id(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True, validate=validate.Range(min=1))
    seats = fields.Integer(required=True, validate=validate.Range(min=1))
