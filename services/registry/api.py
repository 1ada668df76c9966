"""HTTP routes of the registry (thin: validation by schemas, work in participants.Registry)."""
from __future__ import annotations

import base64
import json

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError
from pymongo.errors import DuplicateKeyError

from shared.auth import require_participant, require_staff
from shared.web import Blueprint, accepts

from services.registry.imports import ImportFileError, read_rows, row_to_body
from services.registry.participants import (
    NotEligible, NotFound, Registry, RegistryError, UnknownTopics, UsernameTaken, Withdrawn,
)
from services.registry.schemas import (
    DirectoryPage, DirectoryQuery, ImportQuery, ParticipantOut, RegisteredOut, RegistrationIn, TaxonomyQuery,
    TokenOut, TopicIn, patch_schema,
)
from services.registry.taxonomy import known_topic_codes, localised, merged_categories, preferred_language

blp = Blueprint("registry", __name__, description="The skills directory: who wants to learn what, who can share what")


def _registry() -> Registry:
    return current_app.config["LC_REGISTRY"]


def public_profile(profile: dict) -> dict:
    out = {k: profile.get(k) for k in ("username", "name", "email", "languages", "timezone", "region", "group",
                                       "role", "purpose", "activities", "interests", "consent", "revision",
                                       "registered_at", "updated_at")}
    return {"id": profile["_id"], **out}


def _profile_or_abort(participant_id: str) -> dict:
    try:
        return _registry().get(participant_id)
    except Withdrawn:
        abort(410, message="this participant withdrew; their data was erased")
    except NotFound:
        abort(404, message="no such participant")


def _registry_errors(error: RegistryError):
    if isinstance(error, NotEligible):
        return jsonify(code=422, status="Unprocessable Entity",
                       message="not eligible for Let's Connect: " + "; ".join(r["code"] for r in error.verdict.reasons),
                       eligibility=error.verdict.as_dict()), 422
    if isinstance(error, UnknownTopics):
        abort(422, message="unknown topic", errors={"json": error.errors})
    if isinstance(error, UsernameTaken):
        abort(409, message=f"the username {error.args[0]!r} is already registered",
              errors={"json": {"username": ["already registered"]}})
    abort(409, message=str(error))


@blp.route("/taxonomy")
class Taxonomy(MethodView):
    @blp.arguments(TaxonomyQuery, location="query")
    def get(self, query):
        """Categories and topics, labels in ?lang= or Accept-Language (English fallback)."""
        language = preferred_language(query["lang"], request.accept_languages)
        return localised(merged_categories(_registry().added_topics()), language)


@blp.route("/taxonomy/topics")
class TaxonomyTopics(MethodView):
    @blp.arguments(TopicIn)
    @blp.response(201, TopicIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, topic):
        """Add a topic (staff). Codes are permanent."""
        require_staff()
        registry = _registry()
        categories = {c["code"] for c in merged_categories([])}
        if topic["category"] not in categories:
            abort(422, errors={"json": {"category": [f"one of {', '.join(sorted(categories))}"]}})
        taken = {"json": {"code": ["already used"]}}
        if topic["code"] in known_topic_codes(registry.added_topics(fresh=True)):
            abort(409, message=f"topic {topic['code']!r} exists; codes never change", errors=taken)
        try:
            registry.store.topics.insert_one(dict(topic))
        except DuplicateKeyError:
            abort(409, message=f"topic {topic['code']!r} exists; codes never change", errors=taken)
        return topic


@blp.route("/participants")
class Participants(MethodView):
    @blp.arguments(RegistrationIn)
    @blp.response(201, RegisteredOut)
    def post(self, body):
        """Register: returns the id, a token to manage the profile, and the eligibility verdict."""
        try:
            profile, token, verdict = _registry().register(body)
        except RegistryError as error:
            return _registry_errors(error)
        return {**public_profile(profile), "token": token, "eligibility": verdict.as_dict()}


@blp.route("/participants/<participant_id>")
class Participant(MethodView):
    @blp.response(200, ParticipantOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, participant_id):
        """The whole profile (the participant's own token, or staff)."""
        require_participant(participant_id)
        return public_profile(_profile_or_abort(participant_id))

    @blp.arguments(patch_schema())
    @blp.response(200, ParticipantOut)
    @blp.doc(security=[{"bearer": []}])
    def patch(self, changes, participant_id):
        """Change any part of the profile; `interests` replaces the list. Bumps the revision."""
        require_participant(participant_id)
        _profile_or_abort(participant_id)
        try:
            return public_profile(_registry().update(participant_id, changes))
        except RegistryError as error:
            return _registry_errors(error)

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}])
    def delete(self, participant_id):
        """Withdraw: personal data is erased here and, through participant-withdrawn, everywhere."""
        require_participant(participant_id)
        _profile_or_abort(participant_id)
        _registry().withdraw(participant_id)


@blp.route("/participants/<participant_id>/token")
class ParticipantToken(MethodView):
    @blp.response(201, TokenOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, participant_id):
        """A new token; all older tokens of this participant stop working in every service."""
        require_participant(participant_id)
        _profile_or_abort(participant_id)
        token, valid_after = _registry().reissue_token(participant_id)
        return {"token": token, "tokens_valid_after": valid_after}


def _encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode("utf-8")).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        abort(422, errors={"query": {"cursor": ["not a cursor from a previous page"]}})


@blp.route("/directory")
class Directory(MethodView):
    @blp.arguments(DirectoryQuery, location="query")
    @blp.response(200, DirectoryPage)
    def get(self, query):
        """The public directory: people who agreed to a public profile, public fields only."""
        match: dict = {"consent.public_profile": True}
        if query["topic"] or query["direction"]:
            element = {k: query[k] for k in ("topic", "direction") if query[k]}
            match["interests"] = {"$elemMatch": element}
        if query["language"]:
            match["languages"] = query["language"]
        if query["region"]:
            match["region"] = query["region"]
        if query["group_type"]:
            match["group.type"] = query["group_type"]
        if query["cursor"]:
            match["directory_key"] = {"$gt": _decode_cursor(query["cursor"])}
        docs = list(_registry().store.participants.find(match).sort("directory_key", 1).limit(query["limit"] + 1))
        more = len(docs) > query["limit"]
        docs = docs[:query["limit"]]
        items = [{"id": d["_id"], "username": d["username"], "name": d["name"], "languages": d["languages"],
                  "region": d["region"], "group": d.get("group"), "role": d["role"],
                  "interests": d["interests"]} for d in docs]
        return {"items": items, "next": _encode_cursor(docs[-1]["directory_key"]) if more and docs else None}


@blp.route("/imports")
class Imports(MethodView):
    @accepts("text/csv", "text/plain", "multipart/form-data", "application/octet-stream")
    @blp.arguments(ImportQuery, location="query")
    @blp.doc(security=[{"bearer": []}])
    def post(self, query):
        """Import a registration form's CSV export (staff): each row created, updated, unchanged or rejected."""
        require_staff()
        upload = request.files.get("file")
        raw = upload.read() if upload else request.get_data()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            abort(422, errors={"body": ["the CSV must be UTF-8"]})
        try:
            mapping = json.loads(query["mapping"]) if query["mapping"] else None
            if mapping is not None and not isinstance(mapping, dict):
                raise ValueError
        except ValueError:
            abort(422, errors={"query": {"mapping": ["a JSON object such as {\"email\": \"Email address\"}"]}})
        try:
            rows = read_rows(text, mapping, query["delimiter"])
        except ImportFileError as exc:
            abort(422, message=str(exc), errors={"body": [str(exc)]})
        return _import_rows(rows)


def _import_rows(rows: list[dict]) -> dict:
    registry = _registry()
    schema = RegistrationIn()
    results, summary = [], {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            body = schema.load(row_to_body(row))
        except ValidationError as exc:
            results.append({"row": number, "status": "rejected", "errors": exc.messages})
            summary["rejected"] += 1
            continue
        existing = registry.find_by_username(body["username"])
        try:
            if existing is None:
                profile, _token, _ = registry.register(body, source="import")
                status = "created"
            else:
                changes = {k: v for k, v in body.items() if k != "username"}
                profile = registry.update(existing["_id"], changes)
                status = "unchanged" if profile["revision"] == existing["revision"] else "updated"
        except NotEligible as exc:
            results.append({"row": number, "status": "rejected", "eligibility": exc.verdict.as_dict()})
            summary["rejected"] += 1
            continue
        except UnknownTopics as exc:
            results.append({"row": number, "status": "rejected", "errors": exc.errors})
            summary["rejected"] += 1
            continue
        except RegistryError as exc:
            results.append({"row": number, "status": "rejected", "errors": {"row": [str(exc)]}})
            summary["rejected"] += 1
            continue
        summary[status] += 1
        results.append({"row": number, "status": status, "id": profile["_id"]})
    return {"summary": summary, "rows": results}
