"""The coordinators' console under /staff/ (issue 15): routes only (parse -> staff_console.py ->
a template in templates/staff/).

Signing in: /staff/sign-in asks the registry to mail a single-use link (audience staff); the link
lands on /staff/sign-in/complete?token=..., whose button exchanges it for a staff token (a button,
not the GET itself: mail scanners that open links must not use up the link). The token lives in
the `lc_staff` cookie: HttpOnly, SameSite=Lax, sent only to /staff (Path), Secure over https.
Every action calls the owning service with that token; a 403 from it shows the console's
"not for your role" page. The console's strings are the `staff` gettext domain
(translations/*/LC_MESSAGES/staff.po), merged over the portal's own catalogue on these pages.
"""
from __future__ import annotations

import csv
import io
import re

from flask import Blueprint, Flask, Response, abort, current_app, g, redirect, render_template, request, session
from flask import url_for
from flask_babel import Domain

from shared.languages import INTERFACE_LANGUAGES

from services.portal.domain.staff_console import (
    CLINIC_KINDS, EXPORT_COLUMNS, ROLE_LABELS, SPACE_KINDS, FormErrors, chosen_roles, dashboard_charts, export_row,
    recording_confirmation, search_filters, slot_input,
)
from services.portal.domain import choices
from services.portal.localisation import TRANSLATIONS
from services.portal.staff_console import Forbidden, SignedOut, StaffConsole
from services.portal.upstream import NotFound, Rejected, ServiceClient
from shared.clock import utcnow
from shared.tokens import STAFF_ROLES

console = Blueprint("staff", __name__, url_prefix="/staff")
COOKIE = "lc_staff"
STAFF_DOMAIN = Domain(translation_directories=[str(TRANSLATIONS), str(TRANSLATIONS)], domain="messages;staff")


def init_console(app: Flask, client: ServiceClient) -> None:
    """Register the console on the portal app (services/portal/app.py)."""
    app.extensions["lc_staff_console"] = StaffConsole(client, app.config["LC_SETTINGS"])
    app.register_blueprint(console)


def _console() -> StaffConsole:
    return current_app.extensions["lc_staff_console"]


def _token() -> str | None:
    return request.cookies.get(COOKIE)


@console.before_request
def _staff_pages():
    STAFF_DOMAIN.as_default()
    g.staff = _console().member(_token(), session.get("staff_name"))
    if g.staff is None and request.endpoint not in ("staff.sign_in_form", "staff.sign_in", "staff.sign_in_complete",
                                                    "staff.sign_in_open"):
        return redirect(url_for("staff.sign_in_form"))
    return None


@console.context_processor
def _helpers():
    return {"member": g.get("staff"), "role_labels": ROLE_LABELS, "staff_roles": STAFF_ROLES}


@console.errorhandler(Forbidden)
def _forbidden(_exc):
    return render_template("staff/forbidden.html"), 403


@console.errorhandler(SignedOut)
def _signed_out(_exc):
    response = redirect(url_for("staff.sign_in_form"))
    response.delete_cookie(COOKIE, path="/staff")
    return response


@console.errorhandler(NotFound)
def _not_found(_exc):
    return render_template("errors/404.html"), 404


@console.errorhandler(Rejected)
def _refused(exc: Rejected):
    """The service said no for another reason (a round already running, a clinic already completed):
    its message, on the console's page."""
    return render_template("staff/refused.html", message=exc.body.get("message", "")), 409


# ----- signing in and out

@console.get("/sign-in")
def sign_in_form():
    return render_template("staff/sign_in.html", sent=False)


@console.post("/sign-in")
def sign_in():
    email = request.form.get("email", "").strip()
    if "@" not in email or len(email) > 254:
        return render_template("staff/sign_in.html", sent=False, error=True, email=email), 422
    _console().request_sign_in(email)
    return render_template("staff/sign_in.html", sent=True)


@console.get("/sign-in/complete")
def sign_in_complete():
    return render_template("staff/sign_in_complete.html", token=request.args.get("token", "")[:4096])


@console.post("/sign-in/complete")
def sign_in_open():
    opened = _console().open_session(request.form.get("token", "")[:4096])
    if opened is None:
        return render_template("staff/sign_in_complete.html", token="", invalid=True), 401
    session["staff_name"] = opened.get("name")
    response = redirect(url_for("staff.dashboard"))
    portal = current_app.config["LC_PORTAL"]
    response.set_cookie(COOKIE, opened["token"], max_age=current_app.config["LC_SETTINGS"].staff_token_ttl_hours * 3600,
                        path="/staff", httponly=True, samesite="Lax", secure=portal.secure_cookies)
    return response


@console.post("/sign-out")
def sign_out():
    session.pop("staff_name", None)
    response = redirect(url_for("staff.sign_in_form"))
    response.delete_cookie(COOKIE, path="/staff")
    return response


# ----- dashboard

@console.get("/")
def dashboard():
    report, stats = _console().report()
    return render_template("staff/dashboard.html", report=report, charts=dashboard_charts(stats),
                           clinics=stats.get("scheduler", {}))


# ----- rounds

@console.get("/rounds")
def rounds():
    """The history is the working group's; the page itself is everyone's (an action refused for a
    role is refused by the matcher, with the 403 page)."""
    try:
        history = _console().rounds(_token())
    except Forbidden:
        history = None
    names = _console().staff_names(_token()) if history else {}
    return render_template("staff/rounds.html", rounds=history, names=names)


@console.post("/rounds")
def request_round():
    made = _console().request_round(_token(), dry_run=request.form.get("mode") != "run")
    return redirect(url_for("staff.round_page", round_id=made["id"]))


@console.get("/rounds/<round_id>")
def round_page(round_id):
    return render_template("staff/round.html", round=_console().round(_token(), round_id))


@console.post("/rounds/<round_id>/run")
def run_preview(round_id):
    _console().commit_round(_token(), round_id)
    return redirect(url_for("staff.round_page", round_id=round_id))


# ----- connections

@console.get("/connections")
def connections():
    topic = request.args.get("topic", "")[:64] or None
    status = request.args.get("status", "")[:30] or None
    region = request.args.get("region") if request.args.get("region") in choices.REGIONS else None
    with_summary = request.args.get("with_summary") == "1"
    items = _console().connections(_token(), topic, status, with_summary, region)
    return render_template("staff/connections.html", items=items, topic=topic, status=status, region=region,
                           with_summary=with_summary, regions=choices.REGIONS,
                           taxonomy=current_app.config["LC_SERVICE_LAYER"].taxonomy(g.language))


# ----- clinics

def _clinics_page(errors: FormErrors | None = None, form: dict | None = None, status: int = 200):
    upcoming, proposals = _console().clinics(_token())
    topic = (form or {}).get("topic", [request.args.get("topic", "")])[0][:80]
    suggested = _console().suggested_slots(topic, request.args.get("date"), utcnow().date()) if topic else None
    return render_template("staff/clinics.html", upcoming=upcoming, proposals=proposals, topic=topic,
                           suggested=suggested, errors=(errors or FormErrors()).fields, form=form or {},
                           kinds=CLINIC_KINDS, languages=INTERFACE_LANGUAGES,
                           taxonomy=current_app.config["LC_SERVICE_LAYER"].taxonomy(g.language)), status


@console.get("/clinics")
def clinics():
    return _clinics_page()


@console.post("/clinics")
def create_clinic():
    form = request.form.to_dict(flat=False)
    created, errors = _console().create_clinic(_token(), form)
    if created is None:
        return _clinics_page(errors, form, 422)
    return redirect(url_for("staff.clinic_page", clinic_id=created["id"]))


@console.get("/clinics/<clinic_id>")
def clinic_page(clinic_id):
    found = _console().clinic(_token(), clinic_id)
    confirmed_by = (found["clinic"].get("recording") or {}).get("confirmed_by")
    names = _console().staff_names(_token()) if confirmed_by else {}
    return render_template("staff/clinic.html", **found, done=request.args.get("done"), slot_input=slot_input,
                           names=names)


@console.post("/clinics/<clinic_id>/attendance")
def attendance(clinic_id):
    _console().mark_attendance(_token(), clinic_id, request.form.getlist("attended"),
                               request.form.get("recording_url", "").strip()[:500] or None)
    return redirect(url_for("staff.clinic_page", clinic_id=clinic_id, done="attendance"))


@console.post("/clinics/<clinic_id>/recording")
def confirm_recording(clinic_id):
    problem = _console().confirm_recording(_token(), clinic_id, recording_confirmation(request.form.to_dict(flat=False)))
    if problem:
        return render_template("staff/refused.html", message=problem), 422
    return redirect(url_for("staff.clinic_page", clinic_id=clinic_id, done="recording"))


@console.post("/clinics/<clinic_id>/edit")
def edit_clinic(clinic_id):
    problem = _console().edit_clinic(_token(), clinic_id, request.form.to_dict(flat=False))
    if problem:
        return render_template("staff/refused.html", message=problem), 422
    return redirect(url_for("staff.clinic_page", clinic_id=clinic_id, done="edit"))


@console.get("/spaces")
def spaces():
    return _spaces_page()


def _spaces_page(errors: FormErrors | None = None, status: int = 200):
    return render_template("staff/spaces.html", spaces=_console().spaces(), errors=(errors or FormErrors()).fields,
                           kinds=SPACE_KINDS, languages=INTERFACE_LANGUAGES, done=request.args.get("done"),
                           taxonomy=current_app.config["LC_SERVICE_LAYER"].taxonomy(g.language)), status


@console.post("/spaces")
def add_space():
    errors = _console().add_space(_token(), request.form.to_dict(flat=False))
    return _spaces_page(errors, 422) if errors else redirect(url_for("staff.spaces"))


@console.post("/spaces/<space_id>/edit")
def edit_space(space_id):
    errors = _console().edit_space(_token(), space_id, request.form.to_dict(flat=False))
    return _spaces_page(errors, 422) if errors else redirect(url_for("staff.spaces", done="edit"))


@console.post("/spaces/<space_id>/remove")
def remove_space(space_id):
    _console().remove_space(_token(), space_id)
    return redirect(url_for("staff.spaces", done="remove"))


@console.post("/clinics/<clinic_id>/cancel")
def cancel_clinic(clinic_id):
    _console().cancel_clinic(_token(), clinic_id)
    return redirect(url_for("staff.clinics"))


@console.get("/feedback")
def feedback():
    topic = request.args.get("topic", "")[:64] or None
    return render_template("staff/feedback.html", feedback=_console().feedback(_token(), topic), topic=topic,
                           taxonomy=current_app.config["LC_SERVICE_LAYER"].taxonomy(g.language))


# ----- participants

@console.get("/participants")
def participants():
    filters = search_filters(request.args)
    cursor = request.args.get("cursor", "")[:500] or None
    found = _console().participants(_token(), filters, cursor) if any(filters.values()) or cursor else None
    return render_template("staff/participants.html", found=found, filters=filters,
                           query={key: value for key, value in filters.items() if value},
                           taxonomy=current_app.config["LC_SERVICE_LAYER"].taxonomy(g.language))


@console.get("/participants.csv")
def participants_csv():
    """The program's spreadsheet: every participant the filters find, cells safe from formulas."""
    rows = list(_console().export_rows(_token(), search_filters(request.args)))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows(export_row(profile) for profile in rows)
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=letsconnect-participants.csv"
    response.headers["Cache-Control"] = "no-store"
    return response


@console.post("/participants/import")
def participants_import():
    upload = request.files.get("file")
    report = _console().import_csv(_token(), upload.read() if upload else b"")
    return render_template("staff/import.html", report=report), (422 if "error" in report else 200)


@console.get("/participants/<participant_id>")
def participant_page(participant_id):
    return render_template("staff/participant.html", person=_console().participant(_token(), participant_id),
                           taxonomy=current_app.config["LC_SERVICE_LAYER"].taxonomy(g.language))


# ----- resources

def _resources_page(problem: str | None = None, status: int = 200):
    text = request.args.get("q", "")[:200] or None
    found, hidden = _console().resources(_token(), text)
    return render_template("staff/resources.html", found=found, hidden=hidden, q=text, problem=problem), status


@console.get("/resources")
def resources():
    return _resources_page()


@console.post("/resources/<resource_id>/hide")
def hide_resource(resource_id):
    problem = _console().hide_resource(_token(), resource_id, request.form.get("reason", "").strip()[:500])
    return _resources_page(problem, 422) if problem else redirect(url_for("staff.resources"))


@console.post("/resources/<resource_id>/restore")
def restore_resource(resource_id):
    _console().restore_resource(_token(), resource_id)
    return redirect(url_for("staff.resources"))


# ----- translation requests

@console.get("/translations")
def translations():
    status = request.args.get("status") if request.args.get("status") in ("open", "done") else "open"
    items = _console().translation_requests(_token(), status)
    names = _console().staff_names(_token()) if any(item.get("assigned_to") for item in items) else {}
    return render_template("staff/translations.html", items=items, status=status, names=names)


@console.post("/translations/<request_id>/assign")
def take_translation(request_id):
    _console().take_translation(_token(), request_id)
    return redirect(url_for("staff.translations"))


@console.post("/translations/<request_id>/done")
def translation_done(request_id):
    _console().translation_done(_token(), request_id)
    return redirect(url_for("staff.translations"))


# ----- staff accounts

def _accounts_page(errors: FormErrors | None = None, problem: str | None = None, status: int = 200):
    return render_template("staff/accounts.html", accounts=_console().accounts(_token()),
                           errors=(errors or FormErrors()).fields, problem=problem), status


@console.get("/accounts")
def accounts():
    return _accounts_page()


@console.post("/accounts")
def add_account():
    errors = _console().add_account(_token(), request.form.to_dict(flat=False))
    if errors:
        return _accounts_page(errors, status=422)
    return redirect(url_for("staff.accounts"))


@console.post("/accounts/<staff_id>/roles")
def change_roles(staff_id):
    roles = chosen_roles(request.form.getlist("roles"))
    if not roles:
        abort(422)
    problem = _console().change_roles(_token(), staff_id, roles)
    return _accounts_page(problem=problem, status=409) if problem else redirect(url_for("staff.accounts"))


@console.post("/accounts/<staff_id>/remove")
def remove_account(staff_id):
    problem = _console().remove_account(_token(), staff_id)
    return _accounts_page(problem=problem, status=409) if problem else redirect(url_for("staff.accounts"))


# ----- audit

@console.get("/audit")
def audit():
    actor = request.args.get("actor", "")[:200] or None
    action = request.args.get("action", "")[:100] or None
    since = request.args.get("since", "")
    since = since if re.fullmatch(r"\d{4}-\d{2}-\d{2}", since) else None
    return render_template("staff/audit.html", records=_console().audit(_token(), actor, action, since), actor=actor,
                           action=action, since=since)

