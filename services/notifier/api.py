"""HTTP routes: the delivery log, preferences (with one-click unsubscribe), translation requests.
Routes only: parse (schemas.py) -> the service layer (service.py) -> render."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_participant, require_staff
from shared.cursors import CursorInvalid
from shared.web import Blueprint, accepts, service_layer

from services.notifier.schemas import (
    NotificationPageSchema, NotificationQuerySchema, PreferencesOutSchema, PreferencesSchema, TokenQuerySchema,
    TranslationPageSchema, TranslationQuerySchema, TranslationRequestSchema, UnsubscribeQuerySchema,
)

blp = Blueprint("notifier", __name__, description="Mail to participants and translators")


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

def _authorise(pid: str, query_token: str | None = None) -> None:
    """Staff, the participant themself, or a mail's preferences link (header, or its ?token=)."""
    require_participant(pid, scope="preferences", token=query_token)


@blp.route("/preferences/<string:participant>")
class Preferences(MethodView):
    @blp.arguments(TokenQuerySchema, location="query")
    @blp.response(200, PreferencesOutSchema)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query, participant):
        """What this participant receives (own token, or staff)."""
        _authorise(participant, query["token"])
        return service_layer().preferences.preferences(participant)

    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesOutSchema)
    @blp.doc(security=[{"bearer": []}])
    def put(self, body, participant):
        """Choose categories to skip and digest or immediate resource mail (own token, or staff).
        Schedule changes, confirmed matches and account mail are always sent."""
        _authorise(participant)
        return service_layer().preferences.save(participant, body)


@blp.route("/preferences/<string:participant>/unsubscribe")
@accepts("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
class Unsubscribe(MethodView):
    @blp.arguments(UnsubscribeQuerySchema, location="query")
    @blp.response(200, PreferencesOutSchema)
    def get(self, query, participant):
        """The List-Unsubscribe link of a mail: stop one category (token from the link)."""
        return self._unsubscribe(participant, query)

    @blp.arguments(UnsubscribeQuerySchema, location="query")
    @blp.response(200, PreferencesOutSchema)
    def post(self, query, participant):
        """RFC 8058 one-click unsubscribe (List-Unsubscribe-Post)."""
        return self._unsubscribe(participant, query)

    @staticmethod
    def _unsubscribe(participant: str, query: dict) -> dict:
        _authorise(participant, query["token"])
        return service_layer().preferences.unsubscribe(participant, query["category"])


# ---------------------------------------------------------------- translation requests

def _translation(doc: dict) -> dict:
    return {"id": doc["_id"], **{k: doc.get(k) for k in (
        "subject_kind", "subject_id", "language", "source_language", "title", "url", "requested_by", "status",
        "translators", "created_at", "done_at")}}


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
        """Close a translation request (staff); closing it again changes nothing."""
        require_staff()
        doc = service_layer().records.close_translation_request(request_id)
        if doc is None:
            abort(404, message=f"no translation request {request_id}")
        return _translation(doc)
