"""The role matrix (issue 15): every route in shared.roles x every staff role, generated from the
one table, checked through the real guards of shared.auth; and every route of every service that
calls a staff guard is in the table (no route forgotten, no roles named in a route)."""
from __future__ import annotations

import importlib
import inspect
import re

import pytest
from flask import Flask, abort
from flask_smorest import Api

from shared import audit_api, roles
from shared.auth import enforce_route_roles, principal, require_participant, require_staff, staff_may_act
from shared.config import Settings
from shared.tokens import STAFF_ROLES, issue_participant_token, issue_staff_token

SERVICES = ("registry", "matcher", "scheduler", "notifier", "resources")
SETTINGS = Settings(secret_keys={"k1": "test-secret"},
                    staff_tokens=tuple(f"machine-{role}:{role}" for role in STAFF_ROLES))


def _guarded_app(service: str, method: str, rule: str) -> Flask:
    """One route of `service` behind the guards, as the services install them."""
    app = Flask(service)
    app.config.update(LC_SETTINGS=SETTINGS, LC_SERVICE=service, LC_TOKEN_STATUS=None)
    app.before_request(enforce_route_roles)
    entry = roles.access(service, method, rule)

    def view(**_params):
        if entry.kind == roles.STAFF_ONLY:
            found = require_staff()
        elif entry.kind == roles.PUBLIC_OR_STAFF:  # public, but the listed roles see more
            found = principal()
            if not staff_may_act(found):
                abort(403)
        else:
            found = require_participant("somebody-else")
        return {"subject": found.subject}

    app.add_url_rule(rule, "view", view, methods=[method])
    return app


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"x-\1", rule)


@pytest.mark.parametrize("service,method,rule,role,expected", roles.matrix(),
                         ids=lambda v: v if isinstance(v, str) else str(v))
def test_a_named_staff_member_may_call_a_route_only_with_a_role_the_table_names(service, method, rule, role,
                                                                                 expected):
    client = _guarded_app(service, method, rule).test_client()
    token = issue_staff_token(SETTINGS, f"staff-{role}", [role])
    answer = client.open(_path(rule), method=method, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == (200 if expected else 403), answer.get_data(as_text=True)
    if expected:
        assert answer.get_json()["subject"] == f"staff-{role}"


@pytest.mark.parametrize("service,method,rule,role,expected", roles.matrix(),
                         ids=lambda v: v if isinstance(v, str) else str(v))
def test_a_machine_token_has_exactly_the_role_it_was_configured_with(service, method, rule, role, expected):
    client = _guarded_app(service, method, rule).test_client()
    answer = client.open(_path(rule), method=method, headers={"Authorization": f"Bearer machine-{role}"})
    assert answer.status_code == (200 if expected else 403)


@pytest.mark.parametrize("service,method,rule", sorted(
    key for key, entry in roles.ROUTES.items() if entry.kind == roles.STAFF_ONLY))
def test_staff_only_routes_refuse_participants_and_anonymous_callers(service, method, rule):
    client = _guarded_app(service, method, rule).test_client()
    assert client.open(_path(rule), method=method).status_code == 401
    session = issue_participant_token(SETTINGS, "p1")
    assert client.open(_path(rule), method=method,
                       headers={"Authorization": f"Bearer {session}"}).status_code == 403


def test_coordinators_are_allowed_everywhere_and_every_role_somewhere():
    assert all("coordinator" in entry.roles for entry in roles.ROUTES.values())
    for role in STAFF_ROLES:
        assert any(role in entry.roles for entry in roles.ROUTES.values()), role
    assert not roles.allowed("matcher", "POST", "/rounds", "ambassador")
    assert roles.allowed("matcher", "POST", "/rounds", "working_group")
    assert roles.allowed("notifier", "GET", "/translation-requests", "translator")
    assert not roles.allowed("registry", "POST", "/staff", "working_group")


def _service_routes(service: str):
    """(method, rule, view method) of every route the service's blueprint declares."""
    api_module = importlib.import_module(f"services.{service}.api")
    app = Flask(service)
    app.config.update(API_TITLE=service, API_VERSION="1", OPENAPI_VERSION="3.0.3")
    api = Api(app)
    api.register_blueprint(api_module.blp)
    api.register_blueprint(audit_api.blp)  # every service's app registers it too
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            if handler is not None:
                yield method, rule.rule, handler


STAFF_GUARD = re.compile(r"require_staff\(|staff_may_act\(|_staff_reading\(|_member_or_staff\(|staff_may_read=True|"
                         r"require_participant\((?![^)]*staff_roles=\(\))|_participant_route\(|_authorise\(|"
                         r"ClinicOne\(\)\.delete")


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_that_admits_staff_is_in_the_table(service):
    missing, named_roles = [], []
    for method, rule, handler in _service_routes(service):
        source = inspect.getsource(handler)
        if STAFF_GUARD.search(source) and roles.access(service, method, rule) is None:
            missing.append(f"{method} {rule}")
        if re.search(r"require_staff\([^)]", source) or re.search(r"staff_roles=\((?!\))", source):
            named_roles.append(f"{method} {rule}")
    assert not missing, f"staff routes of {service} missing from shared/roles.py: {missing}"
    assert not named_roles, f"routes of {service} naming roles themselves (use the table): {named_roles}"


@pytest.mark.parametrize("service", SERVICES)
def test_every_table_entry_is_a_route_of_its_service(service):
    declared = {(method, rule) for method, rule, _ in _service_routes(service)}
    stale = [key for key in roles.ROUTES if key[0] == service and key[1:] not in declared]
    assert not stale, f"shared/roles.py names routes {service} does not have: {stale}"


def test_the_matrix_is_printed_for_the_docs():
    table = roles.markdown_table()
    assert "| matcher | POST | `/rounds` | yes | yes | - | - | - |" in table
    assert "| resources | GET | `/resources/<resource_id>` | yes | yes | - | - | anyone |" in table


def test_docs_security_prints_the_current_table():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "security.md").read_text(encoding="utf-8")
    assert roles.markdown_table() in text, "docs/security.md: paste the output of shared.roles.markdown_table()"
