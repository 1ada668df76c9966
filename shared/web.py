"""The Flask app factory every service API shares: JSON errors, health, readiness, metrics, stats."""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from typing import Callable, Iterable

import pymongo
from flask import Flask, current_app, g, jsonify, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, abort
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.error_handler import ErrorSchema
from marshmallow import INCLUDE, fields
from webargs.flaskparser import FlaskParser
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import HTTPException

from shared import metrics
from shared.auth import enforce_route_roles
from shared.config import Settings
from shared.mongo import ping, until_reachable
from shared.outbox import Outbox
from shared.ratelimit import AbuseLimits, RateLimited, client_address
from shared.tokens import StatusLookup

log = logging.getLogger(__name__)
JSON_TYPES = ("application/json",)
# A request's database work gives up after this (then 503, the transaction aborted), well before
# gunicorn's 60 s worker timeout would cut the answer off: without it a transaction retries for up
# to two minutes while MongoDB is away.
DATABASE_WAIT_SECONDS = 30.0
WITHOUT_DATABASE = ("/healthz", "/readyz", "/metrics")


def database_away(db: Database) -> bool:
    """MongoDB is known to be unreachable. Asked only once the driver has lost its server, so a
    request costs nothing more while the database is up."""
    if db.client.topology_description.has_writable_server():
        return False
    try:
        with pymongo.timeout(1.0):
            db.client.admin.command("ping")
    except PyMongoError:
        return True
    return False


def _unavailable():
    response = jsonify(code=503, status="Service Unavailable",
                       message="the database is unreachable; nothing was changed, try again shortly",
                       request_id=g.get("request_id"))
    response.headers["Retry-After"] = "5"
    return response, 503


MAX_JSON_DEPTH = 32


class _TooDeep(ValueError):
    pass


def _unpaired_surrogate(value, path: tuple = (), depth: int = 0) -> tuple | None:
    """The path to the first string holding an unpaired surrogate (JSON allows "\\ud800"; no
    database or mail header does), else None; _TooDeep past MAX_JSON_DEPTH levels."""
    if depth > MAX_JSON_DEPTH:
        raise _TooDeep()
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(key, str) and _unpaired_surrogate(key, path, depth + 1) is not None:
            return path  # a key is broken: name the object holding it (the key cannot be echoed)
        found = _unpaired_surrogate(item, path + (key,), depth + 1)
        if found is not None:
            return found
    return None


class JsonBodyParser(FlaskParser):
    """webargs' parser, refusing what would pass JSON parsing and break later: nesting deeper than
    MAX_JSON_DEPTH (400, not a RecursionError) and unpaired surrogates (422 naming the field)."""

    def _raw_load_json(self, req):
        try:
            data = super()._raw_load_json(req)
            path = _unpaired_surrogate(data)
        except (RecursionError, _TooDeep):
            raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", "(body)", 0) from None
        if path is not None:
            errors: dict = {}
            node = errors
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1] if path else "_schema"] = ["not valid Unicode text (an unpaired surrogate)"]
            errors = errors if path else {"_schema": errors["_schema"]}
            abort(422, errors={"json": errors})
        return data


class JsonProvider(DefaultJSONProvider):
    """UTF-8 JSON as is; a body that cannot be UTF-8 (an error message quoting a client's unpaired
    surrogate) is escaped instead of failing the response."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj, **kwargs) -> str:
        text = super().dumps(obj, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return super().dumps(obj, **{**kwargs, "ensure_ascii": True})
        return text


# /docs loads Swagger UI from the service itself (the swagger-ui-bundle package), never from a CDN:
# nothing a person opens loads from a third-party host, and the docs work offline.
SWAGGER_ASSETS = "/docs/assets/"


class Blueprint(SmorestBlueprint):
    """flask-smorest's Blueprint, with argument schemas built once: given a class, webargs would
    build a schema (deep-copying every field) on each request; JSON bodies go through JsonBodyParser."""

    ARGUMENTS_PARSER = JsonBodyParser()

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(schema() if isinstance(schema, type) else schema, *args, **kwargs)


class ErrorBody(ErrorSchema):
    """The error body every service answers with, as documented in its OpenAPI document: flask-smorest's
    fields, the request id of a 5xx, and whatever a refusal adds beside them (the registry's
    `eligibility` verdict, say). Its parent refuses unknown fields, which documented every such
    answer as off its schema (the fuzzer's find)."""

    class Meta:
        unknown = INCLUDE

    request_id = fields.String(metadata={"description": "quote it when reporting a server error"})


class ServiceApi(Api):
    ERROR_SCHEMA = ErrorBody


def service_layer():
    """The running service's use cases (services/<name>/service.py), as create_service_app was given them."""
    return current_app.config["LC_SERVICE_LAYER"]


def limit_anonymous(action: str, email: str | None = None) -> None:
    """Count an anonymous POST (`action`: register, sign-in ...) against the abuse limits, per
    client address and per `email`; 429 with Retry-After past them (shared.ratelimit)."""
    limits: AbuseLimits = current_app.extensions["lc_abuse_limits"]
    if not limits.enabled:
        return
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"), limits.trusted_proxies)
    try:
        limits.hit(action, address, email)
    except RateLimited as exc:
        abort(429, message=str(exc), headers={"Retry-After": str(exc.retry_after)})


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
    app.json = JsonProvider(app)
    api = ServiceApi(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    app.extensions["lc_api"] = api
    app.extensions["lc_abuse_limits"] = AbuseLimits(settings, db.name)
    logging.getLogger().addFilter(_RequestIdFilter())

    @app.before_request
    def _begin():
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.started = time.perf_counter()
        if request.path not in WITHOUT_DATABASE:
            if database_away(db):
                return _unavailable()  # at once, rather than after the driver's retries
            g.database_deadline = pymongo.timeout(DATABASE_WAIT_SECONDS)
            g.database_deadline.__enter__()
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

    # Staff-only routes refuse the wrong role before reading the body (shared.roles, the one table).
    app.before_request(enforce_route_roles)

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
        response = jsonify(body)
        response.headers.update(data.get("headers") or {})  # e.g. Retry-After on a 429
        return response, exc.code

    @app.teardown_request
    def _end(_exc=None):
        deadline = g.pop("database_deadline", None)
        if deadline is not None:
            deadline.__exit__(None, None, None)

    @app.errorhandler(ConnectionFailure)
    def _database_unreachable(exc: ConnectionFailure):
        log.warning("%s: MongoDB unreachable on %s %s: %s", service, request.method, request.path, exc)
        return _unavailable()

    @app.errorhandler(PyMongoError)
    def _database_error(exc: PyMongoError):
        if exc.timeout:  # DATABASE_WAIT_SECONDS passed: the transaction was aborted
            log.warning("%s: MongoDB did not answer in time on %s %s: %s", service, request.method, request.path, exc)
            return _unavailable()
        return _unexpected(exc)

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
            outbox = Outbox(db, service)
            metrics.OUTBOX_BACKLOG.labels(service).set(outbox.backlog())
            oldest = outbox.oldest_pending()
            metrics.OUTBOX_OLDEST_AGE.labels(service).set(metrics.age_seconds(oldest) if oldest else 0)
        except Exception:  # the scrape still answers when the database is down
            pass
        payload, content_type = metrics.render()
        return app.response_class(payload, mimetype=content_type.split(";")[0])

    @app.get("/stats")
    def service_stats():
        return jsonify({"service": service, **(stats() if stats else {})})

    return app
