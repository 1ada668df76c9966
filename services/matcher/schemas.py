"""Marshmallow schemas of the matcher's HTTP API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class MatchQuery(Schema):
    participant = fields.String(required=True)


class RespondIn(Schema):
    participant = fields.String(required=True)
    response = fields.String(required=True, validate=validate.OneOf(("accept", "decline")))
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    token = fields.String(load_default=None, metadata={"description": "for the form in the email link's page"})


class RespondLinkQuery(Schema):
    response = fields.String(required=True, validate=validate.OneOf(("accept", "decline")))
    participant = fields.String(required=True)
    token = fields.String(required=True)


class OutcomeIn(Schema):
    participant = fields.String(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=10, max=4000))


class CapacityIn(Schema):
    capacity = fields.Integer(required=True, validate=validate.Range(min=0, max=12))


def match_out(match: dict) -> dict:
    return {"id": match["_id"], "topic": match["topic"], "language": match["language"], "status": match["status"],
            "participants": [{"id": m["id"], "role": m["role"], "response": m["response"]}
                             for m in match["participants"]],
            "reasons": match["reasons"], "reason_codes": match["reason_codes"], "score": match["score"],
            "round_id": match.get("round_id"), "created_at": match["created_at"].isoformat(),
            "expires_at": match["expires_at"].isoformat(), "summary": match.get("summary")}


def round_out(doc: dict) -> dict:
    return {"id": doc["_id"], "status": doc["status"], "learners": doc.get("learners", 0),
            "proposals": doc.get("proposals", []), "unmatched": doc.get("unmatched", []),
            "total_score": doc.get("total_score"), "bound": doc.get("bound"),
            "proven_optimal": doc.get("proven_optimal"), "methods": doc.get("methods", {})}
