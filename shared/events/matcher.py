"""Events the matcher produces; every one is keyed by the match id."""
from marshmallow import Schema, fields, validate

from shared.events.fields import Id, Lang


class MatchMemberSchema(Schema):
    participant_id = Id(required=True)
    role = fields.String(required=True, validate=validate.OneOf(("learner", "sharer")))
    response = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(("accept", "decline")))
    share_contact = fields.Boolean(load_default=False)


class MatchSchema(Schema):
    match_id = Id(required=True)
    topic = fields.String(required=True)
    language = Lang(required=True)
    participants = fields.List(fields.Nested(MatchMemberSchema), required=True,
                               validate=validate.Length(min=2, max=4))
    reasons = fields.List(fields.String(), load_default=list)
    reason_codes = fields.List(fields.String(), load_default=list)
    score = fields.Float(load_default=None, allow_none=True)
    round_id = fields.String(load_default=None, allow_none=True)
    expires_at = fields.String(load_default=None, allow_none=True)


class MatchResponseSchema(MatchSchema):
    """match-accepted / match-declined: who answered; `cause` is 'expired' when nobody did."""

    participant_id = Id(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    cause = fields.String(load_default="responded", validate=validate.OneOf(("responded", "expired")))


class ConnectionCompletedSchema(MatchSchema):
    summary = fields.String(required=True)
    completed_at = fields.String(required=True)
    reported_by = Id(load_default=None, allow_none=True)


EVENTS = {
    "match-proposed": (1, MatchSchema, "match_id"),
    "match-accepted": (1, MatchResponseSchema, "match_id"),
    "match-declined": (1, MatchResponseSchema, "match_id"),
    "match-confirmed": (1, MatchSchema, "match_id"),
    "connection-completed": (1, ConnectionCompletedSchema, "match_id"),
}
