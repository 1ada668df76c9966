"""Marshmallow schemas of the matcher's HTTP API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from shared.clock import iso


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


class RoundIn(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "compute and store the plan as a preview, propose nothing (commit it with "
                       "POST /rounds/{id}/commit while nothing it depends on has changed)"})


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
