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
    origin = fields.String(load_default="matcher", validate=validate.OneOf(("matcher", "self_made")),
                           metadata={"description": "matcher: proposed by the matcher; self_made: recorded by "
                                                    "one of its people (POST /connections)"})


class MatchResponseSchema(MatchSchema):
    """match-accepted / match-declined: who answered; `cause` is 'expired' when nobody did."""

    participant_id = Id(load_default=None, allow_none=True)
    reason = fields.String(load_default=None, allow_none=True)
    cause = fields.String(load_default="responded", validate=validate.OneOf(("responded", "expired")))


class MatchConfirmedSchema(MatchSchema):
    """Everyone accepted; or, with `participant_id`, a learner who joined an already confirmed
    connection accepted (they are the one to introduce)."""

    participant_id = Id(load_default=None, allow_none=True)


class MatchJoinedSchema(MatchSchema):
    """A learner (`participant_id`, whose response is still null) joined an open connection; the
    members who accepted stay accepted, the newcomer answers for themselves."""

    participant_id = Id(required=True)


class MatchLeftSchema(MatchSchema):
    """A learner who had joined an open connection declined (cause responded) or did not answer in
    time (cause expired); `participants` are those who remain, and the connection goes on."""

    participant_id = Id(required=True)
    reason = fields.String(load_default=None, allow_none=True)
    cause = fields.String(load_default="responded", validate=validate.OneOf(("responded", "expired")))


class ConnectionProposedSchema(MatchSchema):
    """A participant (`created_by`, who has accepted) recorded a connection they arranged
    themselves; each other member confirms it (link scope connection.confirm)."""

    created_by = Id(required=True)


class ConnectionCompletedSchema(MatchSchema):
    summary = fields.String(required=True)
    completed_at = fields.String(required=True)
    reported_by = Id(load_default=None, allow_none=True)


EVENTS = {
    "match-proposed": (1, MatchSchema, "match_id"),
    "match-accepted": (1, MatchResponseSchema, "match_id"),
    "match-declined": (1, MatchResponseSchema, "match_id"),
    "match-confirmed": (1, MatchConfirmedSchema, "match_id"),
    "match-joined": (1, MatchJoinedSchema, "match_id"),
    "match-left": (1, MatchLeftSchema, "match_id"),
    "connection-proposed": (1, ConnectionProposedSchema, "match_id"),
    "connection-completed": (1, ConnectionCompletedSchema, "match_id"),
}
