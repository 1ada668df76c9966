"""Error pages a person can read in their language: not found, a service down (503, with
Retry-After), an expired form (kept as typed) and, should it ever happen, our own fault (500).
Never a traceback."""
from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from services.portal.upstream import ServiceUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = "10"


def init_errors(app: Flask, expired_form_page) -> None:
    """`expired_form_page(form)` re-renders a form whose CSRF token was missing or expired."""

    @app.errorhandler(ServiceUnavailable)
    def _service_down(exc: ServiceUnavailable):
        log.warning("portal: %s %s: %s", request.method, request.path, exc)
        response = app.make_response((render_template("errors/503.html"), 503))
        response.headers["Retry-After"] = RETRY_AFTER_SECONDS
        return response

    @app.errorhandler(CSRFError)
    def _expired_form(exc: CSRFError):
        if request.endpoint == "pages.register":
            return expired_form_page(request.form.to_dict(flat=False))
        return render_template("errors/error.html", code=400), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if request.path in ("/healthz", "/readyz", "/metrics"):
            return exc
        template = "errors/404.html" if exc.code == 404 else "errors/error.html"
        return render_template(template, code=exc.code), exc.code

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("portal: unexpected error on %s %s (request %s)", request.method, request.path,
                      g.get("request_id"))
        return render_template("errors/error.html", code=500), 500
