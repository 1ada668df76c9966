"""HTTP routes: the delivery log, preferences (with one-click unsubscribe), translation requests.
Routes only: parse (schemas.py) -> the service layer (service.py) -> render."""
from __future__ import annotations

from flask import redirect
from flask.views import MethodView
from flask_smorest import abort

from shared.audit import actor_of
from shared.auth import require_participant, require_staff, verified
from shared.cursors import CursorInvalid
from shared.web import Blueprint, accepts, service_layer

from services.notifier.schemas import (
    ID_LIMIT, NotificationPageSchema, NotificationQuerySchema, OneClickQuerySchema, PreferencesOutSchema,
    PreferencesSchema, TokenQuerySchema, TranslationPageSchema, TranslationQuerySchema, TranslationRequestSchema,
    UnsubscribeQuerySchema,
)
from services.notifier.domain.translations import Refused as TranslationRefused
from services.notifier.service import PersonErased

blp = Blueprint("notifier", __name__, description="Mail to participants and translators")
FORM_BODIES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
TO_THE_PORTAL = "to the portal's preferences page, which asks before anything changes"


def _path_id(value: str, name: str) -> str:
    """An id from the path: 422 naming it when it cannot be one (too long, control characters)."""
    if not 0 < len(value) <= ID_LIMIT or not value.isprintable():
        abort(422, message=f"invalid {name}",
              errors={"path": {name: [f"an id of 1 to {ID_LIMIT} printable characters"]}})
    return value


def _unless_erased(use_case, *args):
    try:
        return use_case(*args)
    except PersonErased:
        abort(410, message="this participant withdrew from the program")


def _invalid_cursor() -> None:
    abort(422, message="invalid cursor", errors={"query": {"cursor": ["not a cursor from a previous page"]}})


# ---------------------------------------------------------------- delivery log

def _notification(doc: dict) -> dict:
    return {"id": doc["_id"], "event_id": doc["event_id"], "event_type": doc["event_type"],
            "participant": doc.get("participant_id"), "template": doc["template"], "category": doc.get("category"),
            "language": doc.get("language"), "first_language": doc.get("first_language"),
            "channel": doc.get("channel", "email"), "status": doc["status"], "attempts": doc.get("attempts", 0),
            "message_id": doc.get("message_id"), "subject": doc.get("subject"), "error": doc.get("error"),
            "created_at": doc.get("created_at"), "sent_at": doc.get("sent_at"), "log": doc.get("log", [])}


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.arguments(NotificationQuerySchema, location="query")
    @blp.response(200, NotificationPageSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Delivery log (staff): every message, its status and each attempt, newest first."""
        require_staff()
        try:
            docs, following = service_layer().records.deliveries(**query)
        except CursorInvalid:
            _invalid_cursor()
        return {"items": [_notification(d) for d in docs], "next": following}


# ---------------------------------------------------------------- preferences

def _authorise(pid: str, query_token: str | None = None) -> str:
    """Staff, the participant themself, or a mail's preferences link (header, or its ?token=)."""
    pid = _path_id(pid, "participant")
    require_participant(pid, scope="preferences", token=query_token)
    return pid


def _link_holder(token: str) -> str:
    """The participant a mail's preferences link was issued to (401 forged or expired, 410 erased)."""
    found = verified(token)
    if not found.holds_link("preferences", found.subject, found.subject):
        abort(403, message="this link does not allow that action")
    return found.subject


@blp.route("/preferences/<string:participant>")
class Preferences(MethodView):
    @blp.arguments(TokenQuerySchema, location="query")
    @blp.response(200, PreferencesOutSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query, participant):
        """What this participant receives (own token, or staff)."""
        pid = _authorise(participant, query["token"])
        return _unless_erased(service_layer().preferences.preferences, pid)

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesOutSchema)
    @blp.doc(security=[{"bearer": []}])
    def put(self, body, participant):
        """Choose categories to skip and digest or immediate resource mail (own token, or staff).
        Schedule changes, confirmed matches and account mail are always sent."""
        pid = _authorise(participant)
        return _unless_erased(service_layer().preferences.save, pid, body)


@blp.route("/unsubscribe")
@accepts(*FORM_BODIES)
class OneClickUnsubscribe(MethodView):
    @blp.arguments(OneClickQuerySchema, location="query")
    @blp.response(303, description=TO_THE_PORTAL)
    def get(self, query):
        """A mail's List-Unsubscribe link opened in a browser: changes nothing, sends the person to
        the portal's preferences page to confirm."""
        _link_holder(query["token"])
        return redirect(service_layer().preferences.confirmation_url(query["token"], query["category"]), 303)

    @blp.arguments(OneClickQuerySchema, location="query")
    @blp.response(200, PreferencesOutSchema)
    def post(self, query):
        """RFC 8058 one-click unsubscribe (List-Unsubscribe-Post): stop one category of mail."""
        pid = _link_holder(query["token"])
        return _unless_erased(service_layer().preferences.unsubscribe, pid, query["category"])


@blp.route("/preferences/<string:participant>/unsubscribe")
@accepts(*FORM_BODIES)
class Unsubscribe(MethodView):
    """The unsubscribe address of mail sent before /unsubscribe existed."""

    @blp.arguments(UnsubscribeQuerySchema, location="query")
    @blp.response(303, description=TO_THE_PORTAL)
    def get(self, query, participant):
        """Opened in a browser: changes nothing, sends the person to the portal to confirm."""
        _authorise(participant, query["token"])
        return redirect(service_layer().preferences.confirmation_url(query["token"] or "", query["category"]), 303)

    @blp.arguments(UnsubscribeQuerySchema, location="query")
    @blp.response(200, PreferencesOutSchema)
    def post(self, query, participant):
        """RFC 8058 one-click unsubscribe (List-Unsubscribe-Post)."""
        pid = _authorise(participant, query["token"])
        return _unless_erased(service_layer().preferences.unsubscribe, pid, query["category"])


# ---------------------------------------------------------------- translation requests

def _translation(doc: dict) -> dict:
    return {"id": doc["_id"], "kind": doc.get("kind") or "translation", **{k: doc.get(k) for k in (
        "subject_kind", "subject_id", "language", "source_language", "title", "url", "requested_by", "start",
        "minutes", "status", "translators", "created_at", "done_at", "assigned_to", "assigned_at")}}


@blp.route("/translation-requests")
class TranslationRequests(MethodView):
    @blp.arguments(TranslationQuerySchema, location="query")
    @blp.response(200, TranslationPageSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Translation requests (staff): open and done, oldest first."""
        require_staff()
        try:
            docs, following = service_layer().records.translation_requests(**query)
        except CursorInvalid:
            _invalid_cursor()
        return {"items": [_translation(d) for d in docs], "next": following}


@blp.route("/translation-requests/<string:request_id>/done")
class TranslationDone(MethodView):
    @blp.response(200, TranslationRequestSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, request_id):
        """Close a translation request (translators, working group); closing it again changes
        nothing. Audited (translation-request.done)."""
        staff = require_staff()
        doc = service_layer().records.close_translation_request(_path_id(request_id, "request_id"), actor_of(staff))
        if doc is None:
            abort(404, message=f"no translation request {request_id}")
        return _translation(doc)


@blp.route("/translation-requests/<string:request_id>/assign")
class TranslationAssign(MethodView):
    @blp.response(200, TranslationRequestSchema)
    @blp.doc(security=[{"bearer": []}])
    def post(self, request_id):
        """Take an open translation request (translators, working group): `assigned_to` becomes the
        caller's staff account, even when someone else had it (the audit keeps who); taking it again
        changes nothing; 409 when it is done. Audited (translation-request.assign)."""
        staff = require_staff()
        try:
            doc = service_layer().records.assign_translation_request(_path_id(request_id, "request_id"),
                                                                     staff.subject, actor_of(staff))
        except TranslationRefused as refused:
            abort(409, message=str(refused))
        if doc is None:
            abort(404, message=f"no translation request {request_id}")
        return _translation(doc)
