"""The participants' web portal (Flask + Jinja2, served by gunicorn: services.portal.app:create_app()).

It owns no program data and no database: every page is built from the five services' public HTTP
APIs (service.py through upstream.py). The console for staff (issue 15) will be a second
blueprint under /staff/ of this same app, with its templates under templates/staff/.
"""
from __future__ import annotations

import time
import uuid

from flask import Flask, g, request

from shared import metrics
from shared.config import Settings

from services.portal import SERVICE
from services.portal.api import expired_registration, pages
from services.portal.config import PortalConfig
from services.portal.errors import init_errors
from services.portal.localisation import init_localisation
from services.portal.security import init_security
from services.portal.service import PortalService
from services.portal.staff_pages import init_console
from services.portal.upstream import ServiceClient


def create_app(config: PortalConfig | None = None, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    config = config or PortalConfig.from_env(settings)
    client = ServiceClient(config.api_urls, config.connect_timeout_seconds, config.read_timeout_seconds)
    app = Flask(__name__)  # root path services/portal: its templates/ and static/
    app.config.update(LC_SETTINGS=settings, LC_PORTAL=config, LC_SERVICE=SERVICE,
                      LC_SERVICE_LAYER=PortalService(client, config),
                      MAX_CONTENT_LENGTH=settings.max_body_bytes, SEND_FILE_MAX_AGE_DEFAULT=3600)
    init_localisation(app, config.secure_cookies)  # first: even a refused POST is answered in its language
    init_security(app, config.secret_key, config.secure_cookies)
    app.register_blueprint(pages)
    init_console(app, client)  # the coordinators' console under /staff/ (staff_pages.py, issue 15)
    init_errors(app, expired_form_page=expired_registration)
    _measure(app)
    return app


def _measure(app: Flask) -> None:
    @app.before_request
    def _begin():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.REQUESTS.labels(SERVICE, request.method, route, response.status_code).inc()
        metrics.LATENCY.labels(SERVICE, request.method, route).observe(elapsed)
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        return response

    @app.get("/metrics")
    def prometheus_metrics():
        payload, content_type = metrics.render()
        return app.response_class(payload, mimetype=content_type.split(";")[0])
