"""The portal's pages (routes only: parse the request -> a use case of service.py -> a template).

Paths are part of the contract: every link in every email lands on one of them (docs/services/portal.md).
"""
from __future__ import annotations

import re

from flask import (
    Blueprint, Response, abort, current_app, g, make_response, redirect, render_template, request, session, url_for,
)
from flask_babel import gettext

from shared.web import service_layer

from services.portal import credentials
from services.portal.localisation import LANGUAGE_COOKIE, ONE_YEAR
from services.portal.domain import N_, account, choices
from services.portal.domain.filters import ClinicFilters, DirectoryFilters, ResourceFilters
from services.portal.domain.registration import CONSENTS, FieldError, Form
from services.portal.service import Conflict, Invalid, NotAllowed, NotFound, PortalService, Refused
from shared.languages import language_name

pages = Blueprint("pages", __name__)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _portal() -> PortalService:
    return service_layer()


def _known_id(value: str) -> str:
    if not _ID.match(value):
        abort(404)
    return value


def _or_404(read, *args):
    """What `read(*args)` answers, or the 404 page when the service knows no such thing."""
    try:
        return read(*args)
    except NotFound:
        abort(404)


def _browse(template: str, filters, listing):
    """A browse page (directory, clinics, resources): one page of what the filters pick, with labels."""
    return render_template(template, filters=filters, page=listing(filters),
                           taxonomy=_portal().taxonomy(g.language), choices=choices)


@pages.get("/")
def home():
    return render_template("home.html")


# ----- registration

def _register_page(form: Form, status: int = 200, errors=None, refused=None):
    return render_template("register.html", form=form, errors=errors or {}, refused=refused,
                           taxonomy=_portal().taxonomy(g.language), choices=choices, consents=CONSENTS), status


def expired_registration(form: Form):
    """The CSRF token was missing or expired: nothing was sent, and nothing typed is lost."""
    return _register_page(form, 400, errors={"form": [FieldError(N_(
        "This form had expired, so nothing was sent. Everything you typed is still here: send it again."))]})


@pages.get("/register")
def register_form():
    return _register_page({})


@pages.post("/register")
def register():
    form = request.form.to_dict(flat=False)
    outcome = _portal().register(form, _forwarded_for())
    if isinstance(outcome, Refused):
        return _register_page(form, 422, refused=outcome.refusal)
    if isinstance(outcome, Invalid):
        return _register_page(form, 503 if outcome.unavailable else 422, errors=outcome.errors)
    session["welcome_name"] = outcome.name  # shown once on the next page (post/redirect/get)
    return redirect(url_for("pages.registered"), 303)


@pages.get("/register/welcome")
def registered():
    name = session.pop("welcome_name", None)
    if name is None:
        return redirect(url_for("pages.register_form"))
    return render_template("registered.html", name=name)


# ----- the public directory

@pages.get("/directory")
def directory():
    return _browse("directory.html", DirectoryFilters.from_query(request.args), _portal().directory)


# ----- clinics

@pages.get("/clinics")
def clinics():
    return _browse("clinics.html", ClinicFilters.from_query(request.args), _portal().clinics)


@pages.get("/clinics/<clinic_id>")
def clinic(clinic_id):
    found = _or_404(_portal().clinic, _known_id(clinic_id))
    # Booking, cancelling and the waitlist for the person with the invitation's link or signed in;
    # the presenter's view with the presenter message's link (or a presenter signed in).
    token = _token_arg()
    presenting = credentials.access(("clinic.present",), clinic_id, token)
    access = None if presenting is not None and presenting.via == account.LINK else \
        credentials.access(("clinic.register",), clinic_id, token)
    mine = _portal().seats.at(access, clinic_id) if access is not None else None
    presenter = None
    if presenting is not None and (presenting.via == account.LINK or (mine or {}).get("status") == "presenter"):
        presenter = _portal().interpreting.presenter(presenting, clinic_id)
    problem = None
    if access is None and presenter is None and token:
        problem = "expired" if credentials.link_token(token) is None else "other_page"
    return render_template("clinic.html", clinic=found, taxonomy=_portal().taxonomy(g.language), choices=choices,
                           access=access, mine=mine, link_problem=problem, presenter=presenter,
                           token=token if access is not None and access.via == account.LINK else None)


@pages.get("/clinics/<clinic_id>.ics")
def clinic_calendar(clinic_id):
    payload = _or_404(_portal().clinic_calendar, _known_id(clinic_id), g.zone)
    return Response(payload, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="clinic-{clinic_id}.ics"'})


# ----- resources

@pages.get("/resources")
def resources():
    return _browse("resources.html", ResourceFilters.from_query(request.args), _portal().resources)


@pages.get("/resources/<resource_id>")
def resource(resource_id):
    found = _or_404(_portal().resource, _known_id(resource_id))
    return render_template("resource.html", resource=found, taxonomy=_portal().taxonomy(g.language),
                           choices=choices)


# ===== phase B: people acting on their own things (sign-in, /me, answers, seats, feedback, mail)
#
# Each page acts with the person's own token: the email link's (for exactly that page; it stays in
# the page's address and in its forms' hidden `token` field) or the session cookie's.
# After a POST the person lands back on the page (post/redirect/get) with a notice.

def _tell(message: str, **params) -> None:
    """A notice shown once, on the next page (post/redirect/get)."""
    session["notice"] = [message, params]


def _forwarded_for() -> str | None:
    """The X-Forwarded-For chain as it reached the portal plus the portal's own peer, for the registry's
    per-address limits (it believes the chain only from trusted proxies, and takes the nearest hop
    that is not one: what a visitor writes in the header themself proves nothing)."""
    chain = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
    if request.remote_addr:
        chain.append(request.remote_addr)
    return ", ".join(chain) or None


def _token_arg() -> str | None:
    token = request.values.get("token") or None
    return token if token and len(token) <= 4096 else None


def _back(endpoint: str, token: str | None, **values):
    return redirect(url_for(endpoint, **values, **({"token": token} if token else {})), 303)


def _needs_access(scopes: tuple[str, ...], resource: str | None):
    """The Access this page acts with, or the page explaining what to do (sign in / use the email's link)."""
    token = _token_arg()
    found = credentials.access(scopes, resource, token)
    if found is not None:
        return found, None
    if token and credentials.link_token(token) is None:
        problem = "expired"          # forged, expired or from another installation
    elif token:
        problem = "other_page"       # a valid link, for another page or another thing
    else:
        problem = "sign_in"
    return None, (render_template("link_problem.html", problem=problem), 403 if token else 401)


@pages.errorhandler(NotAllowed)
def _not_allowed(refused: NotAllowed):
    """A service refused the person's token: the link expired or was replaced, the data was erased."""
    problem = "erased" if refused.status == 410 else "expired"
    response = make_response(render_template("link_problem.html", problem=problem), refused.status)
    if refused.status in (401, 410) and not _token_arg():
        credentials.forget_session(response)  # the session itself no longer works
    return response


# ----- signing in by email

@pages.get("/sign-in")
def sign_in_form():
    return render_template("sign_in.html", errors={}, email="")


@pages.post("/sign-in")
def sign_in():
    email = (request.form.get("email") or "").strip()[:254]
    errors = {"email": [FieldError(N_("Please fill this in."))]} if not email else \
        _portal().accounts.request_sign_in(email, _forwarded_for())
    if errors:
        return render_template("sign_in.html", errors=errors, email=email), 422
    return redirect(url_for("pages.sign_in_sent"), 303)


@pages.get("/sign-in/sent")
def sign_in_sent():
    return render_template("sign_in_sent.html")


@pages.get("/sign-in/complete")
def sign_in_link():
    """The emailed link: a button, not an automatic sign-in (mail scanners that open links must not
    use up a single-use link, and a session starts only when the person asks for it)."""
    token = _token_arg()
    found = credentials.link_token(token)
    if found is None or found[1].scope != "signin":
        return render_template("link_problem.html", problem="sign_in_link"), 400
    return render_template("sign_in_complete.html", token=token)


@pages.post("/sign-in/complete")
def sign_in_complete():
    token = _token_arg()
    if not token:
        return render_template("link_problem.html", problem="sign_in_link"), 400
    try:
        opened = _portal().accounts.open_session(token, _forwarded_for())
    except NotAllowed:
        return render_template("link_problem.html", problem="sign_in_link"), 400
    response = redirect(url_for("pages.me"), 303)
    credentials.keep_session(response, opened["token"], opened.get("expires_at"))
    if not request.cookies.get(LANGUAGE_COOKIE):  # no language chosen with the switch: the person's first
        first = _portal().accounts.first_language(opened["token"], opened["participant"])
        if first:
            response.set_cookie(LANGUAGE_COOKIE, first, max_age=ONE_YEAR, samesite="Lax", httponly=True,
                                secure=current_app.config["LC_PORTAL"].secure_cookies or request.is_secure)
    _tell(N_("You are signed in."))
    return response


@pages.get("/sign-out")
def sign_out_form():
    return render_template("sign_out.html")


@pages.post("/sign-out")
def sign_out():
    response = redirect(url_for("pages.home"), 303)
    credentials.forget_session(response)
    _tell(N_("You are signed out."))
    return response


# ----- my page

def _signed_in_access():
    found = credentials.access((), None, None)
    if found is None:
        return None, redirect(url_for("pages.sign_in_form"), 303)
    return found, None


@pages.get("/me")
def me():
    access, elsewhere = _signed_in_access()
    if elsewhere:
        return elsewhere
    return render_template("me.html", **_portal().my_page(access), taxonomy=_portal().taxonomy(g.language),
                           choices=choices)


def _profile_page(form, status=200, errors=None, refused=None):
    return render_template("profile.html", form=form, errors=errors or {}, refused=refused, editing=True,
                           form_action=url_for("pages.profile_update"),
                           taxonomy=_portal().taxonomy(g.language), choices=choices, consents=CONSENTS), status


@pages.get("/me/profile")
def profile_form():
    access, elsewhere = _signed_in_access()
    if elsewhere:
        return elsewhere
    return _profile_page(account.profile_form(_portal().accounts.profile(access)))


@pages.post("/me/profile")
def profile_update():
    access, elsewhere = _signed_in_access()
    if elsewhere:
        return elsewhere
    form = request.form.to_dict(flat=False)
    form["username"] = [account.profile_form(_portal().accounts.profile(access))["username"][0]]
    outcome = _portal().accounts.update(access, form)
    if isinstance(outcome, Refused):
        return _profile_page(form, 422, refused=outcome.refusal)
    if isinstance(outcome, Invalid):
        return _profile_page(form, 422, errors=outcome.errors)
    _tell(N_("Your profile is saved."))
    return redirect(url_for("pages.me"), 303)


@pages.post("/me/sign-out-everywhere")
def sign_out_everywhere():
    access, elsewhere = _signed_in_access()
    if elsewhere:
        return elsewhere
    renewed = _portal().accounts.sign_out_everywhere(access)
    response = redirect(url_for("pages.me"), 303)
    credentials.keep_session(response, renewed["token"], None)
    _tell(N_("You are signed out everywhere else: other browsers and the links in earlier emails no longer work."))
    return response


@pages.get("/me/erase")
def erase_form():
    access, elsewhere = _signed_in_access()
    if elsewhere:
        return elsewhere
    return render_template("erase.html", errors={})


@pages.post("/me/erase")
def erase():
    access, elsewhere = _signed_in_access()
    if elsewhere:
        return elsewhere
    if request.form.get("confirm") != "erase":
        return render_template("erase.html", errors={"confirm": [FieldError(N_(
            "Tick the box to confirm that you want your data erased."))]}), 422
    _portal().accounts.erase(access)
    response = make_response(render_template("erased.html"), 200)
    credentials.forget_session(response)
    return response


# ----- proposals, introductions, outcomes

MATCH_SCOPES = ("match.respond", "match.outcome")


def _reasons(match: dict) -> list[str]:
    taxonomy = _portal().taxonomy(g.language)
    words = []
    for message, params in account.reason_words(match.get("reason_codes", [])):
        if "language" in params:
            params = {**params, "language": language_name(params["language"], g.language)}
        if "topic" in params:
            params = {**params, "topic": taxonomy.label(params["topic"])}
        words.append(gettext(message, **params))
    return words or list(match.get("reasons", []))


@pages.get("/matches/<match_id>")
def match(match_id):
    access, problem = _needs_access(MATCH_SCOPES, _known_id(match_id))
    if problem:
        return problem
    found = _or_404(_portal().answers.match, access, match_id)
    mine = account.my_role(found, access.participant)
    if mine is None:
        abort(404)
    token = _token_arg() if access.via == account.LINK else None
    # the outcome summary and interpretation: signed in, or the introduction's match.outcome link
    outcome_allowed = access.via == account.SESSION or credentials.link_token(token)[1].scope == "match.outcome"
    return render_template("match.html", match=found, mine=mine, reasons=_reasons(found), token=token,
                           may_report=found["status"] == "confirmed" and outcome_allowed,
                           taxonomy=_portal().taxonomy(g.language), choices=choices, errors={})


@pages.post("/matches/<match_id>/respond")
def match_respond(match_id):
    access, problem = _needs_access(("match.respond",), _known_id(match_id))
    if problem:
        return problem
    response = request.form.get("response")
    if response not in ("accept", "decline"):
        abort(400)
    try:
        answered = _portal().answers.respond(access, match_id, response, request.form.get("reason", "")[:500])
    except Conflict as conflict:
        _tell(N_("That was not possible: %(detail)s"), detail=conflict.detail)
        return _back("pages.match", _token_arg(), match_id=match_id)
    if response == "decline":
        _tell(N_("You declined. Thank you for telling us; we will not propose this pair again."))
    elif answered.get("status") == "confirmed":
        _tell(N_("You accepted, and so has everyone: an introduction email is on its way."))
    else:
        _tell(N_("You accepted. We will introduce you as soon as everyone has answered."))
    return _back("pages.match", _token_arg(), match_id=match_id)


@pages.post("/matches/<match_id>/outcome")
def match_outcome(match_id):
    access, problem = _needs_access(("match.outcome",), _known_id(match_id))
    if problem:
        return problem
    summary = (request.form.get("summary") or "").strip()
    try:
        _portal().answers.outcome(access, match_id, summary[:4000])
    except Conflict as conflict:
        found = _portal().answers.match(access, match_id)
        errors = {"summary": [FieldError(N_("Write at least a sentence (10 characters or more)."))]} \
            if conflict.errors or len(summary) < 10 else {"summary": [FieldError(
                N_("That was not possible: %(detail)s"), {"detail": conflict.detail})]}
        return render_template("match.html", match=found, mine=account.my_role(found, access.participant),
                               reasons=_reasons(found), token=_token_arg(), may_report=True, summary=summary,
                               taxonomy=_portal().taxonomy(g.language), choices=choices, errors=errors), 422
    _tell(N_("Thank you: your summary is saved."))
    return _back("pages.match", _token_arg(), match_id=match_id)


@pages.post("/matches/<match_id>/interpretation")
def match_interpretation(match_id):
    access, problem = _needs_access(("match.outcome",), _known_id(match_id))
    if problem:
        return problem
    language = (request.form.get("language") or "").strip()[:20]
    minutes = request.form.get("minutes", "")
    try:
        _portal().answers.ask_interpretation(access, match_id, language,
                                             account.meeting_start(request.form.get("start", ""), g.zone),
                                             int(minutes) if minutes.isdigit() else None)
    except Conflict as conflict:
        _tell(N_("That was not possible: %(detail)s"), detail=conflict.detail)
        return _back("pages.match", _token_arg(), match_id=match_id)
    _tell(N_("We asked the interpreters of %(language)s; they answer by email."),
          language=language_name(language, g.language))
    return _back("pages.match", _token_arg(), match_id=match_id)


@pages.get("/connections/<connection_id>")
def connection(connection_id):
    access, problem = _needs_access(("connection.confirm",), _known_id(connection_id))
    if problem:
        return problem
    found = _or_404(_portal().answers.connection, access, connection_id)
    mine = account.my_role(found, access.participant)
    if mine is None:
        abort(404)
    token = _token_arg() if access.via == account.LINK else None
    return render_template("connection.html", match=found, mine=mine, token=token,
                           taxonomy=_portal().taxonomy(g.language), choices=choices)


@pages.post("/connections/<connection_id>/confirm")
def connection_confirm(connection_id):
    access, problem = _needs_access(("connection.confirm",), _known_id(connection_id))
    if problem:
        return problem
    response = request.form.get("response")
    if response not in ("confirm", "decline"):
        abort(400)
    try:
        _portal().answers.confirm(access, connection_id, response, request.form.get("reason", "")[:500])
    except Conflict as conflict:
        _tell(N_("That was not possible: %(detail)s"), detail=conflict.detail)
        return _back("pages.connection", _token_arg(), connection_id=connection_id)
    _tell(N_("Thank you: you confirmed this connection.") if response == "confirm"
          else N_("You declined. Thank you for telling us."))
    return _back("pages.connection", _token_arg(), connection_id=connection_id)


# ----- seats and feedback

@pages.post("/clinics/<clinic_id>/book")
def clinic_book(clinic_id):
    access, problem = _needs_access(("clinic.register",), _known_id(clinic_id))
    if problem:
        return problem
    slot = request.form.get("slot") or ""
    if not slot:
        _tell(N_("Choose a time first."))
        return _back("pages.clinic", _token_arg(), clinic_id=clinic_id)
    interpretation = request.form.get("interpretation") or None
    try:
        booked = _portal().seats.book(access, clinic_id, slot[:64], interpretation)
    except Conflict as conflict:
        _tell(N_("That was not possible: %(detail)s"), detail=conflict.detail)
        return _back("pages.clinic", _token_arg(), clinic_id=clinic_id)
    if booked.get("status") == "confirmed":
        _tell(N_("Your seat is confirmed. The meeting link is on this page and in your email."))
    else:
        _tell(N_("This time is full: you are number %(position)s on its waiting list. We email you when a seat "
                 "is yours."), position=booked.get("position"))
    return _back("pages.clinic", _token_arg(), clinic_id=clinic_id)


@pages.post("/clinics/<clinic_id>/cancel")
def clinic_cancel(clinic_id):
    access, problem = _needs_access(("clinic.register",), _known_id(clinic_id))
    if problem:
        return problem
    try:
        _portal().seats.cancel(access, clinic_id)
    except (Conflict, NotFound) as conflict:
        _tell(N_("That was not possible: %(detail)s"), detail=getattr(conflict, "detail", ""))
        return _back("pages.clinic", _token_arg(), clinic_id=clinic_id)
    _tell(N_("Your registration is cancelled. Thank you for giving your seat back."))
    return _back("pages.clinic", _token_arg(), clinic_id=clinic_id)


FEEDBACK_FIELDS = ("comment", "what_was_useful", "what_to_improve")


@pages.get("/clinics/<clinic_id>/feedback")
def clinic_feedback_form(clinic_id):
    access, problem = _needs_access(("clinic.feedback",), _known_id(clinic_id))
    if problem:
        return problem
    found = _or_404(_portal().clinic, clinic_id)
    return render_template("feedback.html", clinic=found, token=_token_arg() if access.via == account.LINK else None,
                           form={}, errors={}, given=session.pop("feedback_given", None) == clinic_id)


@pages.post("/clinics/<clinic_id>/feedback")
def clinic_feedback(clinic_id):
    access, problem = _needs_access(("clinic.feedback",), _known_id(clinic_id))
    if problem:
        return problem
    form = {name: (request.form.get(name) or "").strip()[:4000] for name in ("rating", "useful", *FEEDBACK_FIELDS)}
    errors = {}
    if form["rating"] not in ("1", "2", "3", "4", "5"):
        errors["rating"] = [FieldError(N_("Please choose one of the options."))]
    if form["useful"] not in ("yes", "no"):
        errors["useful"] = [FieldError(N_("Please choose one of the options."))]
    if not errors:
        answers = {"rating": int(form["rating"]), "useful": form["useful"] == "yes",
                   **{name: form[name] for name in FEEDBACK_FIELDS}}
        try:
            _portal().seats.feedback(access, clinic_id, answers)
        except Conflict as conflict:
            errors["form"] = [FieldError(N_("That was not possible: %(detail)s"), {"detail": conflict.detail})]
    if errors:
        found = _or_404(_portal().clinic, clinic_id)
        return render_template("feedback.html", clinic=found, token=_token_arg(), form=form, errors=errors,
                               given=False), 422
    session["feedback_given"] = clinic_id
    return _back("pages.clinic_feedback_form", _token_arg(), clinic_id=clinic_id)


# ----- interpreters

@pages.get("/interpretation/<request_id>")
def interpretation(request_id):
    access, problem = _needs_access(("interpretation.respond",), _known_id(request_id))
    if problem or access.via != account.LINK:  # an interpreter answers with their email's link only
        return problem or (render_template("link_problem.html", problem="sign_in"), 401)
    asked = _or_404(_portal().interpreting.request, access, request_id)
    return render_template("interpretation.html", asked=asked, token=access.token,
                           taxonomy=_portal().taxonomy(g.language))


@pages.post("/interpretation/<request_id>/respond")
def interpretation_respond(request_id):
    access, problem = _needs_access(("interpretation.respond",), _known_id(request_id))
    if problem or access.via != account.LINK:
        return problem or (render_template("link_problem.html", problem="sign_in"), 401)
    response = request.form.get("response")
    if response not in ("accept", "decline"):
        abort(400)
    try:
        answered = _portal().interpreting.respond(access, request_id, response)
    except Conflict as conflict:
        _tell(N_("That was not possible: %(detail)s"), detail=conflict.detail)
        return _back("pages.interpretation", access.token, request_id=request_id)
    if response == "decline":
        _tell(N_("Thank you for telling us. We ask the other interpreters."))
    elif answered.get("you_interpret"):
        _tell(N_("Thank you: you interpret this session. The meeting link is on this page."))
    else:
        _tell(N_("Thank you. Another interpreter had already accepted: you are not needed this time."))
    return _back("pages.interpretation", access.token, request_id=request_id)


# ----- which mail I receive

@pages.get("/preferences")
def preferences():
    access, problem = _needs_access(("preferences",), None)
    if problem:
        return problem
    unsubscribe = request.args.get("unsubscribe")
    if unsubscribe not in choices.MAIL_CATEGORIES:
        unsubscribe = None
    token = _token_arg() if access.via == account.LINK else None
    return render_template("preferences.html", preferences=_portal().mail.preferences(access), token=token,
                           unsubscribe=unsubscribe, choices=choices)


@pages.post("/preferences")
def preferences_save():
    access, problem = _needs_access(("preferences",), None)
    if problem:
        return problem
    current = _portal().mail.preferences(access)
    stop = request.form.get("stop")
    if stop in choices.MAIL_CATEGORIES:  # the unsubscribe confirmation: one category more
        skip = sorted(set(current.get("skip", [])) | {stop})
        resources = current.get("resources", "digest")
    else:
        receive = set(request.form.getlist("receive"))
        skip = [category for category in choices.MAIL_CATEGORIES if category not in receive]
        resources = request.form.get("resources") if request.form.get("resources") in ("digest", "immediate") \
            else current.get("resources", "digest")
    _portal().mail.save(access, skip, resources)
    if stop in choices.MAIL_CATEGORIES:
        _tell(N_("Done: you no longer receive this kind of email: %(category)s."),
              category=choices.MAIL_CATEGORIES[stop])
    else:
        _tell(N_("Your email preferences are saved."))
    return _back("pages.preferences", _token_arg())


# ----- operations (not pages: for the stack, load balancers and Prometheus)

@pages.get("/healthz")
def healthz():
    return {"status": "ok", "service": "portal"}


@pages.get("/readyz")
def readyz():
    checks = {service: "ok" if up else "unreachable" for service, up in _portal().readiness().items()}
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ready" if ready else "not ready", "service": "portal", "checks": checks}, 200 if ready else 503
