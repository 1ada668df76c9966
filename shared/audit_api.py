"""GET /audit, the same route in every service (coordinators; shared/roles.py): the service's own
audit log (shared.audit), newest first, filtered by actor, action and time, paged by `before`."""
from __future__ import annotations

from datetime import timezone

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from shared.audit import MAX_PAGE, AuditLog, public
from shared.auth import require_staff
from shared.clock import as_utc
from shared.web import Blueprint

blp = Blueprint("audit", __name__, description="The audit log of staff actions taken in this service")


class AuditQuery(Schema):
    actor = fields.String(load_default=None, validate=validate.Length(min=1, max=200))
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    since = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)
    before = fields.AwareDateTime(load_default=None, default_timezone=timezone.utc)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))


class AuditRecordOut(Schema):
    id = fields.String()
    at = fields.DateTime()
    actor = fields.Dict()
    action = fields.String()
    target = fields.Dict()
    before = fields.Dict()
    after = fields.Dict()
    note = fields.String()


class AuditPage(Schema):
    items = fields.List(fields.Nested(AuditRecordOut))
    next_before = fields.DateTime(allow_none=True)


@blp.route("/audit")
class Audit(MethodView):
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditPage)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Staff actions taken in this service (coordinators): who (account id and roles), what, on
        what, when, before/after of a change. Records outlive a staff account's removal."""
        require_staff()
        since = as_utc(query["since"]) if query["since"] else None
        before = as_utc(query["before"]) if query["before"] else None
        found = AuditLog(current_app.config["LC_DB"]).records(query["actor"], query["action"], since, before,
                                                              query["limit"])
        following = found[-1]["at"] if len(found) == query["limit"] else None
        return {"items": [public(r) for r in found], "next_before": following}
