"""HTTP routes of the resource space: parse (schemas.py) -> a use case (service.py) -> render."""
from __future__ import annotations

from flask import Response, jsonify
from flask.views import MethodView
from flask_smorest import abort
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from shared.audit import actor_of
from shared.auth import principal, require_signed_in, require_staff, staff_may_act
from shared.cursors import CursorInvalid, decode_cursor, encode_cursor
from shared.topics import unknown_topic_message
from shared.web import Blueprint, service_layer

from services.resources.domain.errors import (
    NotFound, NotOwner, RecordingWithoutConsent, ResourcesError, TooManyProposals, UnknownTopicCodes,
)
from services.resources.schemas import (
    HideIn, ResourceIn, ResourcePatch, SearchQuery, TranslationIn, TranslationRequestIn,
)
from services.resources.service import ResourcesService

blp = Blueprint("resources", __name__, description="The resource space: recordings, decks, guidelines")

OUT_FIELDS = ("title", "description", "kind", "url", "language", "topics", "authors", "license", "translations",
              "published_at", "updated_at")
PROPOSAL_FIELDS = ("language", "title", "url", "proposed_at")  # never who proposed it


def _resources() -> ResourcesService:
    return service_layer()


def resource_out(resource: dict) -> dict:
    return {"id": resource["_id"], **{k: resource.get(k) for k in OUT_FIELDS}, "clinic": resource.get("clinic_id"),
            "owned": resource.get("owner") is not None,
            "proposals": [{k: p.get(k) for k in PROPOSAL_FIELDS} for p in resource.get("proposals", [])],
            **({"hidden": resource["hidden"]} if resource.get("hidden") else {})}


def _staff_reading() -> bool:
    """The working group reads hidden resources; any other caller, even with a token that does not
    verify, sees what the public sees."""
    try:
        return staff_may_act(principal())
    except HTTPException:
        return False


def _answer(code: int, message: str, errors: dict | None = None):
    body = {"code": code, "status": HTTP_STATUS_CODES[code], "message": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), code


@blp.errorhandler(ResourcesError)
def _refused(error: ResourcesError):
    if isinstance(error, NotFound):
        return _answer(404, "no such resource")
    if isinstance(error, NotOwner):
        return _answer(403, str(error))
    if isinstance(error, RecordingWithoutConsent):
        return _answer(422, str(error), {"json": {"consent": [str(error)]}})
    if isinstance(error, TooManyProposals):
        return _answer(409, str(error))
    if isinstance(error, UnknownTopicCodes):
        return _answer(422, "unknown topic codes",
                       {"json": {"topics": [unknown_topic_message(code) for code in error.codes]}})
    return _answer(409, str(error))


def _position(cursor: str) -> tuple[str, str]:
    try:
        position = decode_cursor(cursor)
    except CursorInvalid as exc:
        abort(422, errors={"query": {"cursor": [str(exc)]}})
    if not (isinstance(position, list) and len(position) == 2 and all(isinstance(p, str) and p for p in position)):
        abort(422, errors={"query": {"cursor": ["not a cursor from a previous page"]}})
    return position[0], position[1]


@blp.route("/resources")
class Resources(MethodView):
    @blp.arguments(ResourceIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Publish a resource (staff, or a participant with their own token)."""
        actor = require_signed_in()
        return resource_out(_resources().publish(data, None if staff_may_act(actor) else actor.subject)), 201

    @blp.arguments(SearchQuery, location="query")
    def get(self, query):
        """Search title and description in any script; filter by topic, language, kind, clinic."""
        before = _position(query["cursor"]) if query["cursor"] else None
        docs, position = _resources().search(query["q"], topic=query["topic"], language=query["language"],
                                             kind=query["kind"], clinic=query["clinic"], before=before,
                                             limit=query["limit"])
        return {"items": [resource_out(d) for d in docs],
                "next": encode_cursor(list(position)) if position is not None else None}


@blp.route("/resources/export.wikitext")
class Export(MethodView):
    def get(self):
        """The resource space as a Meta-Wiki page, grouped by topic."""
        return Response(_resources().wikitext(), mimetype="text/plain")


@blp.route("/resources/hidden")
class HiddenResources(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """Resources the working group took off the public lists, with the reasons (working group)."""
        require_staff()
        return {"items": [resource_out(r) for r in _resources().hidden()], "next": None}


@blp.route("/resources/<resource_id>/hide")
class HideResource(MethodView):
    @blp.arguments(HideIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, resource_id):
        """Take a resource off the public lists (search, its page, the Meta-Wiki export) with a reason
        (working group); audited. Restore it with POST .../restore."""
        staff = require_staff()
        return resource_out(_resources().hide(resource_id, body["reason"], actor_of(staff)))


@blp.route("/resources/<resource_id>/restore")
class RestoreResource(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def post(self, resource_id):
        """Bring a hidden resource back to the public lists (working group); audited."""
        staff = require_staff()
        return resource_out(_resources().restore(resource_id, actor_of(staff)))


@blp.route("/resources/<resource_id>")
class Resource(MethodView):
    def get(self, resource_id):
        """One resource (a hidden one only for the working group)."""
        return resource_out(_resources().resource(resource_id, staff=_staff_reading()))

    @blp.arguments(ResourcePatch(partial=True))
    @blp.doc(security=[{"bearer": []}])
    def patch(self, changes, resource_id):
        """Change it (the participant who published it, or staff)."""
        actor = require_signed_in()
        return resource_out(_resources().update(resource_id, changes, actor.subject, staff_may_act(actor)))

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}])
    def delete(self, resource_id):
        """Remove it and its translation requests (the participant who published it, or staff)."""
        actor = require_signed_in()
        _resources().delete(resource_id, actor.subject, staff_may_act(actor))


@blp.route("/resources/<resource_id>/translations")
class Translations(MethodView):
    @blp.arguments(TranslationIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, translation, resource_id):
        """Offer a translation. From the resource's owner or staff it becomes the translation for its
        language (201; the open request for that language closes); from anyone else it is kept as
        a proposal beside the owner's links (202), which the owner may adopt."""
        actor = require_signed_in()
        resource, set_now = _resources().offer_translation(resource_id, translation, actor.subject, staff_may_act(actor))
        return resource_out(resource), 201 if set_now else 202


@blp.route("/resources/<resource_id>/translation-requests")
class TranslationRequests(MethodView):
    @blp.arguments(TranslationRequestIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, resource_id):
        """Ask translators: one request per language not yet translated or requested."""
        require_signed_in()
        return {"requested": _resources().request_translations(resource_id, body["languages"])}, 201
