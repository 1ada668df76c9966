"""Every service answers health, readiness and metrics; bad requests get clear JSON errors."""
from __future__ import annotations

import importlib
import subprocess

import pytest
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from shared.config import SERVICES
from shared.mongo import database
from shared.web import create_service_app


@pytest.fixture(scope="module")
def apps(servers):
    from tests.support import namespaced_settings

    settings = namespaced_settings(servers)
    return {name: importlib.import_module(f"services.{name}.app").create_app(settings).test_client()
            for name in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_healthy_ready_and_measured(apps, service):
    client = apps[service]
    assert client.get("/healthz").get_json() == {"status": "ok", "service": service}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["checks"] == {"mongo": "ok", "kafka": "ok", "indexes": "ok"}
    client.get("/healthz")
    body = client.get("/metrics").get_data(as_text=True)
    assert "lc_http_requests_total" in body and f'service="{service}"' in body
    assert "lc_outbox_backlog" in body
    assert client.get("/stats").get_json()["service"] == service
    assert client.get("/openapi.json").get_json()["info"]["title"] == f"Let's Connect {service}"


def test_an_api_started_before_its_database_answers_503_then_serves_once_it_is_up(servers, tmp_path):
    from letsconnect.population import population
    from letsconnect.servers import _venv_bin, free_port, wait_for_port
    from tests.support import eventually, namespaced_settings

    port = free_port()
    settings = namespaced_settings(servers).with_overrides(
        mongo_uri=f"mongodb://127.0.0.1:{port}/?directConnection=true")
    client = importlib.import_module("services.registry.app").create_app(settings).test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["indexes"] == "pending"
    body = population(1, seed=5, ineligible_share=0.0)[0].body
    refused = client.post("/participants", json=body)
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert "database is unreachable" in refused.get_json()["message"]

    mongo = subprocess.Popen([_venv_bin("secantusd-py"), "--host", "127.0.0.1", "--port", str(port),
                              "--storage-path", str(tmp_path / "mongo"), "--log-level", "WARNING"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, 60, mongo, "SecantusDB")
        eventually(lambda: client.get("/readyz").status_code == 200, timeout=60, message="never became ready")
        assert client.post("/participants", json=body).status_code == 201
    finally:
        mongo.terminate()
        mongo.wait(20)


class Thing(Schema):
    name = fields.String(required=True)
    email = fields.Email(required=True)


@pytest.fixture(scope="module")
def probe(servers):
    from tests.support import namespaced_settings

    settings = namespaced_settings(servers, max_body_bytes=2000)
    blp = Blueprint("things", __name__)

    @blp.route("/things")
    class Things(MethodView):
        @blp.arguments(Thing)
        @blp.response(201, Thing)
        def post(self, thing):
            return thing

    @blp.route("/boom")
    def boom():
        raise RuntimeError("a bug")

    app = create_service_app("probe", settings, database(settings, "probe"), [blp])
    return app.test_client()


def test_unknown_field_values_get_422_naming_the_field(probe):
    response = probe.post("/things", json={"name": "x", "email": "nope"})
    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]["json"]


def test_http_errors_are_json(probe):
    assert probe.get("/nowhere").get_json()["code"] == 404
    assert probe.delete("/things").status_code == 405
    assert probe.delete("/things").get_json()["status"] == "Method Not Allowed"
    too_big = probe.post("/things", data="{" + " " * 5000 + "}", content_type="application/json")
    assert too_big.status_code == 413 and too_big.get_json()["code"] == 413
    form = probe.post("/things", data="name=x", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and "JSON" in form.get_json()["message"]
    broken = probe.post("/things", data="{not json", content_type="application/json")
    assert broken.status_code == 400 and broken.get_json()["code"] == 400
    assert probe.post("/things", json={"name": "x", "email": "a@b.org"}).status_code == 201


def test_a_bug_answers_500_json_with_request_id_not_a_traceback(probe):
    response = probe.get("/boom", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 500
    assert response.get_json()["request_id"] == "req-42"
    assert "Traceback" not in response.get_data(as_text=True)
