"""The portal's pages (routes only: parse the request -> a use case of service.py -> a template).

Paths are part of the contract: every link in every email lands on one of them (docs/services/portal.md).
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for

from shared.web import service_layer

from services.portal.domain import N_, choices
from services.portal.domain.filters import ClinicFilters, DirectoryFilters, ResourceFilters
from services.portal.domain.registration import CONSENTS, FieldError, Form
from services.portal.service import Invalid, NotFound, PortalService, Refused

pages = Blueprint("pages", __name__)
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _portal() -> PortalService:
    return service_layer()


def _known_id(value: str) -> str:
    if not _ID.match(value):
        abort(404)
    return value


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
    outcome = _portal().register(form)
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
    filters = DirectoryFilters.from_query(request.args)
    return render_template("directory.html", filters=filters, page=_portal().directory(filters),
                           taxonomy=_portal().taxonomy(g.language), choices=choices)


# ----- clinics

@pages.get("/clinics")
def clinics():
    filters = ClinicFilters.from_query(request.args)
    return render_template("clinics.html", filters=filters, page=_portal().clinics(filters),
                           taxonomy=_portal().taxonomy(g.language), choices=choices)


@pages.get("/clinics/<clinic_id>")
def clinic(clinic_id):
    try:
        found = _portal().clinic(_known_id(clinic_id))
    except NotFound:
        abort(404)
    return render_template("clinic.html", clinic=found, taxonomy=_portal().taxonomy(g.language), choices=choices)


@pages.get("/clinics/<clinic_id>.ics")
def clinic_calendar(clinic_id):
    try:
        payload = _portal().clinic_calendar(_known_id(clinic_id), g.zone)
    except NotFound:
        abort(404)
    return Response(payload, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="clinic-{clinic_id}.ics"'})


# ----- resources

@pages.get("/resources")
def resources():
    filters = ResourceFilters.from_query(request.args)
    return render_template("resources.html", filters=filters, page=_portal().resources(filters),
                           taxonomy=_portal().taxonomy(g.language), choices=choices)


@pages.get("/resources/<resource_id>")
def resource(resource_id):
    try:
        found = _portal().resource(_known_id(resource_id))
    except NotFound:
        abort(404)
    return render_template("resource.html", resource=found, taxonomy=_portal().taxonomy(g.language),
                           choices=choices)


# ----- operations (not pages: for the stack, load balancers and Prometheus)

@pages.get("/healthz")
def healthz():
    return {"status": "ok", "service": "portal"}


@pages.get("/readyz")
def readyz():
    checks = {service: "ok" if up else "unreachable" for service, up in _portal().readiness().items()}
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ready" if ready else "not ready", "service": "portal", "checks": checks}, 200 if ready else 503
