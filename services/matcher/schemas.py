"""Marshmallow schemas of the matcher's HTTP API."""
from __future__ import annotations

import unicodedata

from marshmallow import Schema, ValidationError, fields, validate

from datetime import datetime, timezone

from shared.clock import iso
from shared.events.fields import REGIONS
from shared.validation import language_code


def storable_text(value: str) -> None:
    """Text from people that MongoDB can store and mail can carry: no control characters other than
    newlines and tabs, no lone surrogates (JSON allows "\\ud800"; BSON does not)."""
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cs" or (category == "Cc" and ch not in "\n\t"):
            raise ValidationError("contains characters that are not allowed")


def text(required: bool = False, min_length: int = 0, max_length: int = 500, **kwargs) -> fields.String:
    options = {"required": True} if required else {"load_default": None, "allow_none": True}
    return fields.String(**options, validate=[validate.Length(min=min_length, max=max_length), storable_text],
                         **kwargs)


def participant_id(**kwargs) -> fields.String:
    return text(required=True, min_length=1, max_length=64, **kwargs)


class MatchQuery(Schema):
    participant = participant_id()


class RespondIn(Schema):
    participant = participant_id()
    response = fields.String(required=True, validate=validate.OneOf(("accept", "decline")))
    reason = text(max_length=500)
    token = text(max_length=4096, metadata={"description": "for the form in the email link's page"})


class RespondLinkQuery(Schema):
    response = fields.String(required=True, validate=validate.OneOf(("accept", "decline")))
    participant = participant_id()
    token = text(required=True, max_length=4096)


class OutcomeIn(Schema):
    participant = participant_id()
    summary = text(required=True, min_length=10, max_length=4000)


class CapacityIn(Schema):
    capacity = fields.Integer(required=True, validate=validate.Range(min=0, max=12))


def match_out(match: dict) -> dict:
    return {"id": match["_id"], "topic": match["topic"], "language": match["language"], "status": match["status"],
            "participants": [{"id": m["id"], "role": m["role"], "response": m["response"]}
                             for m in match["participants"]],
            "reasons": match["reasons"], "reason_codes": match["reason_codes"], "score": match["score"],
            "round_id": match.get("round_id"), "created_at": match["created_at"].isoformat(),
            "expires_at": match["expires_at"].isoformat(), "summary": match.get("summary"),
            "origin": match.get("origin", "matcher"), "created_by": match.get("created_by"),
            "joined": [m["id"] for m in match["participants"] if m.get("joined_at") is not None],
            "interpretation": [{"request_id": asked["request_id"], "language": asked["language"]}
                               for asked in match.get("interpretation", [])]}


class RoundIn(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "compute and store the plan as a preview, propose nothing (commit it with "
                       "POST /rounds/{id}/commit while nothing it depends on has changed)"})


class MemberIn(Schema):
    id = participant_id()
    role = fields.String(load_default="learner", validate=validate.OneOf(("learner", "sharer")))


class ConnectionIn(Schema):
    topic = text(required=True, min_length=1, max_length=64)
    language = fields.String(required=True, validate=language_code)
    role = fields.String(load_default="learner", validate=validate.OneOf(("learner", "sharer")),
                         metadata={"description": "your own role in it (one person shares, the others learn)"})
    participants = fields.List(fields.Nested(MemberIn), required=True, validate=validate.Length(min=1, max=3),
                               metadata={"description": "the other people (1 to 3), each with their role"})


class ConfirmIn(Schema):
    participant = participant_id()
    response = fields.String(load_default="confirm", validate=validate.OneOf(("confirm", "decline")))
    reason = text(max_length=500)


class InterpretationIn(Schema):
    participant = participant_id()
    language = fields.String(required=True, validate=language_code,
                             metadata={"description": "the language to interpret into"})
    start = fields.AwareDateTime(load_default=None, allow_none=True, default_timezone=timezone.utc,
                                 validate=validate.Range(min=datetime(2000, 1, 1, tzinfo=timezone.utc),
                                                         max=datetime(2100, 1, 1, tzinfo=timezone.utc)))
    minutes = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=24 * 60))


def _when(value):
    return iso(value) if value is not None else None


def round_out(doc: dict) -> dict:
    out = {"id": doc["_id"], "status": doc["status"], "dry_run": bool(doc.get("dry_run")),
           "requested_by": doc.get("requested_by"), "requested_at": _when(doc.get("requested_at")),
           "scheduled_for": _when(doc.get("scheduled_for")), "finished_at": _when(doc.get("finished_at")),
           "progress": {"phase": doc.get("phase"), "planned": doc.get("planned"), "written": doc.get("written"),
                        "attempts": doc.get("attempts", 0)},
           "learners": doc.get("learners", 0), "proposals": doc.get("proposals", []), "joined": doc.get("joined", []),
           "unmatched": doc.get("unmatched", []), "total_score": doc.get("total_score"), "bound": doc.get("bound"),
           "proven_optimal": doc.get("proven_optimal"), "methods": doc.get("methods", {})}
    if "preview" in doc:
        out["preview"] = doc["preview"]
    if doc.get("error"):
        out["error"] = doc["error"]
    return out


class RoundsQuery(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class OutcomesQuery(Schema):
    topic = text(max_length=64)
    status = text(max_length=30, metadata={"description": "proposed, confirmed, completed, declined ..."})
    with_summary = fields.Boolean(load_default=False, metadata={"description": "only connections with an outcome summary"})
    region = fields.String(load_default=None, validate=validate.OneOf(REGIONS),
                           metadata={"description": "only connections with someone from this region (as the "
                                                    "registry last said)"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


def round_history_out(doc: dict) -> dict:
    return {"id": doc["_id"], "status": doc["status"], "dry_run": bool(doc.get("dry_run")),
            "requested_by": doc.get("requested_by"), "committed_by": doc.get("committed_by"),
            "requested_at": _when(doc.get("requested_at")), "finished_at": _when(doc.get("finished_at")),
            "learners": doc.get("learners", 0), "total_score": doc.get("total_score")}
