"""HTTP routes of the registry: parse (schemas.py) -> a use case (service.py) -> render."""
from __future__ import annotations

import json

from flask import jsonify, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError
from werkzeug.http import HTTP_STATUS_CODES

from shared.auth import principal, require_participant, require_staff
from shared.cursors import CursorInvalid, decode_cursor, encode_cursor
from shared.web import Blueprint, accepts, limit_anonymous, service_layer

from services.registry.domain.errors import (
    NotEligible, NotFound, RegistryError, SignInRefused, TopicExists, UnknownCategory, UnknownTopics, UsernameTaken,
    Withdrawn,
)
from services.registry.domain import staff as staff_rules
from services.registry.domain.imports import FIRST_DATA_LINE, ImportFileError, read_rows, row_to_body
from services.registry.domain.taxonomy import preferred_language
from services.registry.schemas import (
    DirectoryPage, DirectoryQuery, ImportQuery, ParticipantOut, ParticipantSearchQuery, RegisteredOut, RegistrationIn,
    SessionIn, SessionOut, SignInIn, SignInOut, StaffIn, StaffList, StaffNamesOut, StaffOut, StaffPatch, StaffQuery,
    TaxonomyQuery, TokenOut, TopicIn, patch_schema,
)
from services.registry.service import RegistryService

blp = Blueprint("registry", __name__, description="The skills directory: who wants to learn what, who can share what")

PROFILE_FIELDS = ("username", "name", "email", "languages", "timezone", "region", "group", "role", "purpose",
                  "activities", "interests", "consent", "revision", "registered_at", "updated_at")


def _registry() -> RegistryService:
    return service_layer()


def public_profile(profile: dict) -> dict:
    return {"id": profile["_id"], **{k: profile.get(k) for k in PROFILE_FIELDS}}


def _answer(code: int, message: str, errors: dict | None = None, **extra):
    """The JSON error body every route answers with (shared.web's shape)."""
    body = {"code": code, "status": HTTP_STATUS_CODES[code], "message": message, **extra}
    if errors:
        body["errors"] = errors
    return jsonify(body), code


@blp.errorhandler(RegistryError)
def _refused(error: RegistryError):
    """Every refusal of a use case, answered the same way on every route."""
    if isinstance(error, NotEligible):
        return _answer(422, "not eligible for Let's Connect: " + "; ".join(r["code"] for r in error.verdict.reasons),
                       eligibility=error.verdict.as_dict())
    if isinstance(error, UnknownTopics):
        return _answer(422, "unknown topic", {"json": error.errors})
    if isinstance(error, UnknownCategory):
        return _answer(422, "unknown category",
                       {"json": {"category": [f"one of {', '.join(sorted(error.categories))}"]}})
    if isinstance(error, TopicExists):
        return _answer(409, str(error), {"json": {"code": ["already used"]}})
    if isinstance(error, UsernameTaken):
        return _answer(409, f"the username {error.args[0]!r} is already registered",
                       {"json": {"username": ["already registered"]}})
    if isinstance(error, Withdrawn):
        return _answer(410, "this participant withdrew; their data was erased")
    if isinstance(error, NotFound):
        return _answer(404, "no such participant")
    if isinstance(error, SignInRefused):
        return _answer(401, str(error))
    if isinstance(error, staff_rules.StaffNotFound):
        return _answer(404, "no such staff account")
    if isinstance(error, staff_rules.StaffExists):
        return _answer(409, "a staff account with this address exists", {"json": {"email": ["already a staff account"]}})
    if isinstance(error, staff_rules.StaffRefused):
        return _answer(409, str(error), {"json": {error.field: [str(error)]}})
    return _answer(409, str(error))


def _participant_route(participant_id: str) -> None:
    """Who may act on a participant: the person or staff. A caller without any token learns
    nothing about the id: 404 whether it exists, never did, or was erased."""
    if principal() is None:
        abort(404, message="no such participant")
    require_participant(participant_id)



def _position_after(query) -> str | None:
    """Where a page of people starts: the position its `cursor` names (422 for any other cursor)."""
    if not query["cursor"]:
        return None
    try:
        after = decode_cursor(query["cursor"])
    except CursorInvalid as exc:
        abort(422, errors={"query": {"cursor": [str(exc)]}})
    if not isinstance(after, str):
        abort(422, errors={"query": {"cursor": ["not a cursor from a previous page"]}})
    return after

@blp.route("/taxonomy")
class Taxonomy(MethodView):
    @blp.arguments(TaxonomyQuery, location="query")
    def get(self, query):
        """Categories and topics, labels in ?lang= or Accept-Language (English fallback)."""
        return _registry().taxonomy.localised(preferred_language(query["lang"], request.accept_languages))


@blp.route("/taxonomy/topics")
class TaxonomyTopics(MethodView):
    @blp.arguments(TopicIn)
    @blp.response(201, TopicIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, topic):
        """Add a topic (staff). Codes are permanent."""
        require_staff()
        return _registry().taxonomy.add_topic(topic)


@blp.route("/participants")
class Participants(MethodView):
    @blp.arguments(ParticipantSearchQuery, location="query")
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Search participants (working group): whole profiles, by the directory's filters and the
        start of a username or name (or a whole address), consented to a public profile or not."""
        require_staff()
        filters = {k: query[k] for k in ("topic", "direction", "language", "region", "group_type")}
        items, position = _registry().search(filters, query["q"], _position_after(query), query["limit"])
        return {"items": [public_profile(p) for p in items],
                "next": encode_cursor(position) if position is not None else None}

    @blp.arguments(RegistrationIn)
    @blp.response(201, RegisteredOut)
    def post(self, body):
        """Register: returns the id, a token to manage the profile, and the eligibility verdict.
        Rate limited per client address and per email address (429 with Retry-After)."""
        limit_anonymous("register", email=body["email"])
        profile, token, verdict = _registry().register(body)
        return {**public_profile(profile), "token": token, "eligibility": verdict.as_dict()}


@blp.route("/participants/<participant_id>")
class Participant(MethodView):
    @blp.response(200, ParticipantOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, participant_id):
        """The whole profile (the participant's own token, or staff)."""
        _participant_route(participant_id)
        return public_profile(_registry().profile(participant_id))

    @blp.arguments(patch_schema())
    @blp.response(200, ParticipantOut)
    @blp.doc(security=[{"bearer": []}])
    def patch(self, changes, participant_id):
        """Change any part of the profile; `interests` replaces the list. Bumps the revision."""
        _participant_route(participant_id)
        return public_profile(_registry().update(participant_id, changes, principal()))

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}])
    def delete(self, participant_id):
        """Withdraw: personal data is erased here and, through participant-withdrawn, everywhere."""
        _participant_route(participant_id)
        _registry().withdraw(participant_id, principal())


@blp.route("/participants/<participant_id>/token")
class ParticipantToken(MethodView):
    @blp.response(201, TokenOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, participant_id):
        """Sign me out everywhere: a new session token; every older token of this participant
        (sessions, emailed links) stops working in every service."""
        _participant_route(participant_id)
        token, valid_after = _registry().reissue_token(participant_id, principal())
        return {"token": token, "tokens_valid_after": valid_after}


@blp.route("/sign-in")
class SignInRequests(MethodView):
    @blp.arguments(SignInIn)
    @blp.response(202, SignInOut)
    def post(self, body):
        """Ask for an emailed sign-in link (single use, 30 minutes). The answer is the same
        whether or not the address is registered. Rate limited per client address and per email."""
        limit_anonymous("sign-in", email=body["email"])
        _registry().sign_in.request(body["email"], body["audience"])
        return {"status": "requested",
                "message": f"If this address belongs to a registered {'staff account' if body['audience'] == 'staff' else 'participant'}, a sign-in link is on its way."}


@blp.route("/sessions")
class Sessions(MethodView):
    @blp.arguments(SessionIn)
    @blp.response(201, SessionOut)
    def post(self, body):
        """Exchange the token of an emailed sign-in link for a session token, once."""
        limit_anonymous("session")
        return _registry().sign_in.open_session(body["token"])


@blp.route("/directory")
class Directory(MethodView):
    @blp.arguments(DirectoryQuery, location="query")
    @blp.response(200, DirectoryPage)
    def get(self, query):
        """The public directory: people who agreed to a public profile, public fields only."""
        filters = {k: query[k] for k in ("topic", "direction", "language", "region", "group_type")}
        items, position = _registry().directory(filters, _position_after(query), query["limit"])
        return {"items": items, "next": encode_cursor(position) if position is not None else None}


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
            if mapping is not None and not (isinstance(mapping, dict)
                                            and all(isinstance(v, str) for v in mapping.values())):
                raise ValueError
        except (ValueError, RecursionError):
            abort(422, errors={"query": {"mapping": ["a JSON object such as {\"email\": \"Email address\"}"]}})
        try:
            rows = read_rows(text, mapping, query["delimiter"])
        except ImportFileError as exc:
            abort(422, message=str(exc), errors={"body": [str(exc)]})
        return _registry().import_rows(list(_validated(rows)))


def _validated(rows: list[dict]):
    """(line, body, None) for a row POST /participants would accept, else (line, None, field errors)."""
    schema = RegistrationIn()
    for line, row in enumerate(rows, start=FIRST_DATA_LINE):
        try:
            yield line, schema.load(row_to_body(row)), None
        except ValidationError as exc:
            yield line, None, exc.messages


# ---------------------------------------------------------------- staff accounts (coordinators)

@blp.route("/staff")
class StaffAccounts(MethodView):
    @blp.arguments(StaffQuery, location="query")
    @blp.response(200, StaffList)
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """The named staff accounts and their roles (coordinators); removed ones with include_removed."""
        require_staff()
        return {"items": [staff_rules.public(a) for a in _registry().staff.listing(query["include_removed"])]}

    @blp.arguments(StaffIn)
    @blp.response(201, StaffOut)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Add a staff account (coordinators): it signs in through the emailed link (POST /sign-in with
        audience staff). Announced as staff-account-changed; audited."""
        actor = require_staff()
        return staff_rules.public(_registry().staff.add(body, actor))


@blp.route("/staff/names")
class StaffNames(MethodView):
    @blp.response(200, StaffNamesOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self):
        """`{names: {staff id: name}}` of the current staff accounts (every staff role): the console
        says who ran a round or took a translation request by name, without anyone's address."""
        require_staff()
        return {"names": staff_rules.names(_registry().staff.listing(False))}


@blp.route("/staff/<staff_id>")
class StaffAccount(MethodView):
    @blp.response(200, StaffOut)
    @blp.doc(security=[{"bearer": []}])
    def get(self, staff_id):
        """One staff account (coordinators)."""
        require_staff()
        return staff_rules.public(_registry().staff.get(staff_id))

    @blp.arguments(StaffPatch)
    @blp.response(200, StaffOut)
    @blp.doc(security=[{"bearer": []}])
    def patch(self, changes, staff_id):
        """Change roles, name or languages (coordinators). New roles end the account's older tokens
        everywhere; the last coordinator keeps the role (409). Audited."""
        actor = require_staff()
        return staff_rules.public(_registry().staff.change(staff_id, changes, actor))

    @blp.response(204)
    @blp.doc(security=[{"bearer": []}])
    def delete(self, staff_id):
        """Remove a staff account (coordinators): its tokens stop working everywhere, its address and
        name are dropped; audit records naming it stay. Not the last coordinator (409)."""
        actor = require_staff()
        _registry().staff.remove(staff_id, actor)
