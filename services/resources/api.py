"""HTTP routes of the resource space (thin: the work is in library.Library)."""
from __future__ import annotations

import base64

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_signed_in
from shared.topics import abort_unless_known
from shared.web import Blueprint

from services.resources.index import FIELDS, SearchIndex
from services.resources.library import Library, NotFound
from services.resources.schemas import ResourceIn, ResourcePatch, SearchQuery, TranslationIn, TranslationRequestIn
from services.resources.search import query_tokens
from services.resources.wikitext import render

blp = Blueprint("resources", __name__, description="The resource space: recordings, decks, guidelines")


def _library() -> Library:
    return current_app.config["LC_LIBRARY"]


def resource_out(resource: dict) -> dict:
    return {"id": resource["_id"], **{k: resource.get(k) for k in (
        "title", "description", "kind", "url", "language", "topics", "authors", "license", "translations",
        "published_at", "updated_at")}, "clinic": resource.get("clinic_id"), "owned": resource.get("owner") is not None}


def _resource_or_404(resource_id: str) -> dict:
    try:
        return _library().get(resource_id)
    except NotFound:
        abort(404, message="no such resource")


def _owner_or_staff(resource: dict) -> None:
    actor = require_signed_in()
    if not actor.is_staff and actor.subject != resource.get("owner"):
        abort(403, message="only the person who published it, or staff, can change it")


def _decode_cursor(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        raw = ""
    published_at, separator, last_id = raw.partition("|")
    if not separator or not published_at or not last_id:
        abort(422, errors={"query": {"cursor": ["not a cursor from a previous page"]}})
    return published_at, last_id


@blp.route("/resources")
class Resources(MethodView):
    @blp.arguments(ResourceIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Publish a resource (staff, or a participant with their own token)."""
        actor = require_signed_in()
        abort_unless_known(_library().store.known_topics, data["topics"])
        return resource_out(_library().publish(data, None if actor.is_staff else actor.subject)), 201

    @blp.arguments(SearchQuery, location="query")
    def get(self, query):
        """Search title and description in any script; filter by topic, language, kind, clinic."""
        library = _library()
        index: SearchIndex = current_app.config["LC_SEARCH_INDEX"]
        index.refresh(lambda match: library.store.resources.find(match, FIELDS))
        before = _decode_cursor(query["cursor"]) if query["cursor"] else None
        ids = index.search(query_tokens(query["q"]) if query["q"] else [], topic=query["topic"],
                           language=query["language"], kind=query["kind"], clinic=query["clinic"], before=before,
                           limit=query["limit"] + 1)
        found = {d["_id"]: d for d in library.store.resources.find({"_id": {"$in": ids}})}
        for missing in set(ids) - set(found):
            index.forget(missing)  # deleted by another process
        docs = [found[i] for i in ids if i in found]
        more = len(ids) > query["limit"]
        docs = docs[:query["limit"]]
        cursor = None
        if more and docs:
            cursor = base64.urlsafe_b64encode(f"{docs[-1]['published_at']}|{docs[-1]['_id']}".encode()).decode()
        return {"items": [resource_out(d) for d in docs], "next": cursor}


@blp.route("/resources/export.wikitext")
class Export(MethodView):
    def get(self):
        """The resource space as a Meta-Wiki page, grouped by topic."""
        resources = list(_library().store.resources.find({}))
        return Response(render(resources), mimetype="text/plain")


@blp.route("/resources/<resource_id>")
class Resource(MethodView):
    def get(self, resource_id):
        return resource_out(_resource_or_404(resource_id))

    @blp.arguments(ResourcePatch(partial=True))
    @blp.doc(security=[{"bearer": []}])
    def patch(self, changes, resource_id):
        resource = _resource_or_404(resource_id)
        _owner_or_staff(resource)
        abort_unless_known(_library().store.known_topics, changes.get("topics", []))
        merged = {**resource, **changes}
        if merged["kind"] == "recording" and not merged.get("consent"):
            abort(422, errors={"json": {"consent": ["a recording is published only when everyone consented"]}})
        return resource_out(_library().update(resource_id, changes))

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}])
    def delete(self, resource_id):
        _owner_or_staff(_resource_or_404(resource_id))
        _library().delete(resource_id)
        current_app.config["LC_SEARCH_INDEX"].forget(resource_id)


@blp.route("/resources/<resource_id>/translations")
class Translations(MethodView):
    @blp.arguments(TranslationIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, translation, resource_id):
        """Add a translation (any participant or staff); it closes the open request for that language."""
        require_signed_in()
        _resource_or_404(resource_id)
        return resource_out(_library().add_translation(resource_id, translation)), 201


@blp.route("/resources/<resource_id>/translation-requests")
class TranslationRequests(MethodView):
    @blp.arguments(TranslationRequestIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, resource_id):
        """Ask translators: one request per language not yet translated or requested."""
        require_signed_in()
        _resource_or_404(resource_id)
        created = _library().request_translations(resource_id, body["languages"])
        return {"requested": [r["language"] for r in created]}, 201
