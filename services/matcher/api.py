"""HTTP routes of the matcher: parse (schemas.py) -> the service layer (service.py) -> render."""
from __future__ import annotations

import html

from flask import Response, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from shared.audit import actor_of
from shared.auth import acting_participant, principal, require_participant, require_staff, staff_may_act
from shared.web import Blueprint, accepts, service_layer

from services.matcher.domain.errors import Invalid, MatchError
from services.matcher.schemas import (
    CapacityIn, ConfirmIn, ConnectionIn, InterpretationIn, MatchQuery, OutcomeIn, OutcomesQuery, RespondIn,
    RespondLinkQuery, RoundIn, RoundsQuery, match_out, round_history_out, round_out,
)
from services.matcher.service import MatcherService

blp = Blueprint("matcher", __name__, description="Peer connections: proposals, rounds, answers, outcomes")


def _matcher() -> MatcherService:
    return service_layer()


def _fail(error: MatchError):
    if isinstance(error, Invalid):
        abort(422, message=str(error), errors={"json": {error.field: [str(error)]}})
    abort(error.status, message=str(error))


LINK_SCOPES = ("match.respond", "match.outcome", "connection.confirm")  # each may read the match it names


def _member_or_staff(match: dict) -> None:
    """A member with their session, or with an email link for this very match, or staff."""
    found = principal()
    if found is None:
        abort(401, message="a bearer token is required")
    if staff_may_act(found):
        return
    member = any(m["id"] == found.subject for m in match["participants"])
    if found.kind == "participant" and member:
        return
    if found.kind == "link" and member and any(found.holds_link(scope, match["_id"]) for scope in LINK_SCOPES):
        return
    abort(403, message="this match is not yours")


@blp.route("/rounds")
class Rounds(MethodView):
    @blp.arguments(RoundIn, required=False)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Request a connect-making round (working group): the workers compute it (optimal over every
        open learning interest) and write its proposals; 202 with the round id at once, then
        GET /rounds/{id} shows progress and the result. `dry_run` stores the plan as a preview."""
        staff = require_staff()
        try:
            doc = _matcher().request_round(staff.subject, dry_run=bool((body or {}).get("dry_run")),
                                           actor=actor_of(staff))
        except MatchError as error:
            _fail(error)
        return round_out(doc), 202, {"Location": f"/rounds/{doc['_id']}"}


@blp.route("/rounds")
class RoundHistory(MethodView):
    @blp.arguments(RoundsQuery, location="query")
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """The history of rounds, newest first, with who requested (and committed) each (working group)."""
        require_staff()
        return {"items": [round_history_out(d) for d in _matcher().recent_rounds(query["limit"])], "next": None}


@blp.route("/outcomes")
class Outcomes(MethodView):
    @blp.arguments(OutcomesQuery, location="query")
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """Connections for the working group, newest first: filter by topic, status and region (a
        connection with someone from the region), or only those whose people wrote an outcome summary
        (the program's qualitative evaluation)."""
        require_staff()
        found = _matcher().connections_where(query["topic"], query["status"], query["with_summary"], query["limit"],
                                             region=query["region"])
        return {"items": [match_out(d) for d in found], "next": None}


@blp.route("/rounds/<round_id>")
class Round(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def get(self, round_id):
        """A round's progress, then what it proposed (and each unmatched learner with the reason);
        a dry run's preview lists the connections it would propose (working group)."""
        require_staff()
        try:
            return round_out(_matcher().round(round_id))
        except MatchError as error:
            _fail(error)


@blp.route("/rounds/<round_id>/commit")
class RoundCommit(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def post(self, round_id):
        """Propose what a dry run previewed, as it is (working group): 202, the workers write it;
        409 when something it depends on changed since (interests, answers, capacities)."""
        staff = require_staff()
        try:
            return round_out(_matcher().commit_round(round_id, staff.subject, actor=actor_of(staff))), 202
        except MatchError as error:
            _fail(error)


@blp.route("/sharers/<participant_id>/capacity")
class SharerCapacity(MethodView):
    @blp.arguments(CapacityIn)
    @blp.doc(security=[{"bearer": []}])
    def put(self, body, participant_id):
        """How many open connections this sharer takes (working group; the default is LC_MATCHER_SHARER_CAPACITY)."""
        require_staff()
        return _matcher().set_capacity(participant_id, body["capacity"])


@blp.route("/matches")
class Matches(MethodView):
    @blp.arguments(MatchQuery, location="query")
    @blp.doc(security=[{"bearer": []}])
    def get(self, query):
        """A participant's matches (the participant or staff)."""
        require_participant(query["participant"])
        return {"items": [match_out(d) for d in _matcher().matches_of(query["participant"])], "next": None}


@blp.route("/matches/<match_id>")
class Match(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def get(self, match_id):
        try:
            match = _matcher().get(match_id)
        except MatchError as error:
            _fail(error)
        _member_or_staff(match)
        return match_out(match)


@blp.route("/matches/<match_id>/respond")
class Respond(MethodView):
    @blp.arguments(RespondLinkQuery, location="query")
    def get(self, query, match_id):
        """The page an email link opens: it asks to confirm, it changes nothing by itself."""
        action = "Accept" if query["response"] == "accept" else "Decline"
        page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{action} this connection</title></head>"
                f"<body><h1>{action} this Let's Connect connection?</h1>"
                "<form method='post' action='respond'>"  # relative: works behind a path prefix too
                f"<input type='hidden' name='participant' value='{html.escape(query['participant'])}'>"
                f"<input type='hidden' name='response' value='{html.escape(query['response'])}'>"
                f"<input type='hidden' name='token' value='{html.escape(query['token'])}'>"
                + ("<label>Why not (optional) <input name='reason'></label>" if action == "Decline" else "")
                + f"<button type='submit'>{action}</button></form></body></html>")
        return Response(page, mimetype="text/html")

    @accepts("application/x-www-form-urlencoded", "multipart/form-data")
    def post(self, match_id):
        """Accept or decline, with your own token: JSON with a bearer token, or the confirmation
        page's form (token in a field; the answer is then a page, not JSON)."""
        form = not request.is_json
        payload = request.form.to_dict() if form else request.get_json(silent=True)
        try:
            body = RespondIn().load(payload or {})
        except ValidationError as exc:
            return _refuse(form, 422, "Some fields are missing or wrong.", errors={"json": exc.messages})
        try:  # the participant themself, or the link of this proposal's email: never staff
            require_participant(body["participant"], scope="match.respond", resource=match_id, staff_roles=(),
                                token=body["token"])
        except HTTPException as refused:
            message = (getattr(refused, "data", None) or {}).get("message") or refused.description
            return _refuse(form, refused.code, f"This link or token does not allow that ({message}).")
        try:
            match = _matcher().respond(match_id, body["participant"], body["response"], body["reason"])
        except MatchError as error:
            return _refuse(form, error.status, str(error).capitalize() + ".")
        if form:
            if body["response"] == "decline":
                text = "You declined. Thank you for telling us; we will not propose this pair again."
            elif match["status"] == "confirmed":
                text = "You accepted, and so has everyone: an introduction email is on its way."
            else:
                text = "You accepted. We will introduce you as soon as everyone has answered."
            return _page("Thank you", text, 200)
        return match_out(match)


def _page(title: str, text: str, status: int) -> Response:
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
            f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
    return Response(page, status=status, mimetype="text/html")


def _refuse(form: bool, status: int, text: str, **extra):
    """A page for someone who followed the email link, the usual JSON error otherwise."""
    if form:
        return _page("That did not work", text, status)
    abort(status, message=text, **extra)


@blp.route("/matches/<match_id>/outcome")
class Outcome(MethodView):
    @blp.arguments(OutcomeIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, match_id):
        """The short summary the program asks for after a connection (a member of it)."""
        require_participant(body["participant"], scope="match.outcome", resource=match_id)
        try:
            match = _matcher().outcome(match_id, body["participant"], body["summary"])
        except MatchError as error:
            _fail(error)
        return match_out(match)


@blp.route("/matches/<match_id>/interpretation")
class Interpretation(MethodView):
    @blp.arguments(InterpretationIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, match_id):
        """Ask for an interpreter for a confirmed connection (a member, own session or the link of the
        introduction email): translators of that language are asked (translation-requested)."""
        require_participant(body["participant"], scope="match.outcome", resource=match_id, staff_roles=())
        try:
            asked = _matcher().request_interpretation(match_id, body["participant"], body["language"],
                                                      body["start"], body["minutes"])
        except MatchError as error:
            _fail(error)
        return {"request_id": asked["request_id"], "language": asked["language"], "match": match_id}, 201


@blp.route("/connections")
class Connections(MethodView):
    @blp.arguments(ConnectionIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body):
        """Record a connection you arranged yourself (your own session token): name the other people
        (at most three more, one of you shares) and the topic; each of them confirms it."""
        creator = acting_participant()
        try:
            match = _matcher().create_connection(creator, body["topic"], body["language"], body["role"],
                                                 body["participants"])
        except MatchError as error:
            _fail(error)
        return match_out(match), 201


@blp.route("/connections/<connection_id>")
class Connection(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def get(self, connection_id):
        """A self-made connection (its people, with their session or their confirmation link; staff)."""
        try:
            match = _matcher().get(connection_id)
        except MatchError as error:
            _fail(error)
        _member_or_staff(match)
        return match_out(match)


@blp.route("/connections/<connection_id>/confirm")
class ConnectionConfirm(MethodView):
    @blp.arguments(ConfirmIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, body, connection_id):
        """Confirm (or decline) a connection that names you: your session token or the link in the
        email (scope connection.confirm); once everyone has, it is a confirmed connection."""
        require_participant(body["participant"], scope="connection.confirm", resource=connection_id, staff_roles=())
        response = "accept" if body["response"] == "confirm" else "decline"
        try:
            match = _matcher().respond(connection_id, body["participant"], response, body["reason"])
        except MatchError as error:
            _fail(error)
        return match_out(match)
