"""The Flask app factory every service API shares: JSON errors, health, readiness, metrics, stats."""
from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from typing import Callable, Iterable

from flask import Flask, current_app, g, jsonify, request, send_from_directory
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from pymongo.database import Database
from pymongo.errors import ConnectionFailure
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException

from shared import metrics
from shared.config import Settings
from shared.mongo import ping, until_reachable
from shared.tokens import StatusLookup

log = logging.getLogger(__name__)
JSON_TYPES = ("application/json",)
# /docs loads Swagger UI from the service itself (the swagger-ui-bundle package), never from a CDN:
# nothing a person opens loads from a third-party host, and the docs work offline.
SWAGGER_ASSETS = "/docs/assets/"


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, with argument schemas built once: given a class, webargs would
    build a schema (deep-copying every field) on each request."""

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


def service_layer():
    """The running service's use cases (services/<name>/service.py), as create_service_app was given them."""
    return current_app.config["LC_SERVICE_LAYER"]


def accepts(*mimetypes: str):
    """Mark a view as taking bodies other than JSON (e.g. CSV uploads)."""
    def mark(view):
        view._lc_accepts = mimetypes
        return view
    return mark


class _RequestIdFilter(logging.Filter):
    def filter(self, record):
        try:
            record.request_id = g.request_id
        except (AttributeError, RuntimeError):
            record.request_id = "-"
        return True


def kafka_reachable(bootstrap: str, timeout: float = 1.0) -> bool:
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
                return True
        except (OSError, ValueError):
            continue
    return False


def _prepare_when_reachable(service: str, prepare: Callable[[], None], done: threading.Event) -> None:
    """Create the indexes now or, while MongoDB is unreachable, in the background, so the API
    starts anyway (it answers 503 and /readyz says so until the database is back)."""
    def prepared() -> None:
        prepare()
        done.set()

    try:
        prepared()
    except ConnectionFailure as exc:
        log.warning("%s: MongoDB unreachable at start (%s); indexes will be created when it is back", service, exc)
        threading.Thread(target=until_reachable, args=(prepared, f"{service} indexes"),
                         name=f"{service}-prepare", daemon=True).start()


def create_service_app(service: str, settings: Settings, db: Database, blueprints: Iterable[Blueprint],
                       stats: Callable[[], dict] | None = None, description: str = "",
                       prepare: Callable[[], None] | None = None, token_status: StatusLookup | None = None,
                       use_cases=None) -> Flask:
    """`prepare` creates the service's indexes (retried in the background while MongoDB is down);
    `token_status(kind, subject)` is what the service knows of token subjects (shared.auth);
    `use_cases` is the service layer (services/<name>/service.py) the routes call: `service_layer()`."""
    prepared = threading.Event()
    _prepare_when_reachable(service, prepare or (lambda: None), prepared)
    app = Flask(service)
    app.config.update(
        LC_SETTINGS=settings, LC_DB=db, LC_SERVICE=service, LC_TOKEN_STATUS=token_status, LC_SERVICE_LAYER=use_cases,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE=f"Let's Connect {service}", API_VERSION="1.0", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/", OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs", OPENAPI_SWAGGER_UI_URL=SWAGGER_ASSETS,
        # validatorUrl: Swagger UI would otherwise send the spec to validator.swagger.io for a badge.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={"info": {"description": description}},
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    api = Api(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.extensions["lc_api"] = api
    logging.getLogger().addFilter(_RequestIdFilter())

    @app.before_request
    def _begin():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.started = time.perf_counter()
        if request.method in ("POST", "PUT", "PATCH") and (request.content_length or request.data):
            view = app.view_functions.get(request.endpoint)
            view_class = getattr(view, "view_class", None)
            method = getattr(view_class, request.method.lower(), None)
            allowed = (getattr(view, "_lc_accepts", None) or getattr(method, "_lc_accepts", None)
                       or getattr(view_class, "_lc_accepts", None) or ())
            mimetype = request.mimetype or ""
            if mimetype not in JSON_TYPES and not mimetype.endswith("+json") and mimetype not in allowed:
                return jsonify(code=415, status="Unsupported Media Type",
                               message=f"send JSON (Content-Type: application/json), not {mimetype or 'nothing'}"), 415
        return None

    @app.after_request
    def _finish(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        metrics.REQUESTS.labels(service, request.method, route, response.status_code).inc()
        metrics.LATENCY.labels(service, request.method, route).observe(elapsed)
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        body = {"code": exc.code, "status": exc.name, "message": data.get("message") or exc.description}
        if data.get("errors"):
            body["errors"] = data["errors"]
        for extra, value in data.items():
            if extra not in ("message", "errors", "headers", "messages", "schema"):
                body.setdefault(extra, value)
        if "messages" in data and "errors" not in body:
            body["errors"] = data["messages"]
        return jsonify(body), exc.code

    @app.errorhandler(ConnectionFailure)
    def _database_unreachable(exc: ConnectionFailure):
        log.warning("%s: MongoDB unreachable on %s %s: %s", service, request.method, request.path, exc)
        response = jsonify(code=503, status="Service Unavailable",
                           message="the database is unreachable; nothing was changed, try again shortly",
                           request_id=g.get("request_id"))
        response.headers["Retry-After"] = "5"
        return response, 503

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("%s: unhandled error on %s %s", service, request.method, request.path)
        return jsonify(code=500, status="Internal Server Error",
                       message="unexpected error; quote this request id", request_id=g.get("request_id")), 500

    @app.get(SWAGGER_ASSETS + "<path:filename>")
    def swagger_assets(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok", "service": service}

    @app.get("/readyz")
    def readyz():
        checks = {}
        try:
            ping(db)
            checks["mongo"] = "ok"
        except Exception as exc:  # any driver failure means not ready
            checks["mongo"] = f"unreachable: {type(exc).__name__}"
        checks["kafka"] = "ok" if kafka_reachable(settings.kafka_bootstrap) else "unreachable"
        checks["indexes"] = "ok" if prepared.is_set() else "pending"
        ready = all(v == "ok" for v in checks.values())
        return {"status": "ready" if ready else "not ready", "service": service, "checks": checks}, (
            200 if ready else 503)

    @app.get("/metrics")
    def prometheus_metrics():
        try:
            metrics.OUTBOX_BACKLOG.labels(service).set(db["outbox"].count_documents({}))
        except Exception:  # the scrape still answers when the database is down
            pass
        payload, content_type = metrics.render()
        return app.response_class(payload, mimetype=content_type.split(";")[0])

    @app.get("/stats")
    def service_stats():
        return jsonify({"service": service, **(stats() if stats else {})})

    return app
