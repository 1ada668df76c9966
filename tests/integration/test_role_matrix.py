"""The role table (shared/roles.py) as the five running services apply it: for every staff-only
route, every role the table does not name is refused with 403 before anything is read or done,
and a participant's own session is refused too."""
from __future__ import annotations

import importlib
import re

import pytest

from shared import roles
from shared.tokens import STAFF_ROLES, issue_participant_token, issue_staff_token
from tests.support import auth, namespaced_settings

SERVICES = ("registry", "matcher", "scheduler", "notifier", "resources")


@pytest.fixture(scope="module")
def clients(servers):
    settings = namespaced_settings(servers)
    apps = {name: importlib.import_module(f"services.{name}.app").create_app(settings) for name in SERVICES}
    return settings, {name: app.test_client() for name, app in apps.items()}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"x-\1", rule)


REFUSED = [(service, method, rule, role) for service, method, rule, role, allowed in roles.matrix()
           if not allowed and roles.access(service, method, rule).kind == roles.STAFF_ONLY]


@pytest.mark.parametrize("service,method,rule,role", REFUSED, ids=lambda v: str(v))
def test_a_role_the_table_does_not_name_is_refused_by_the_running_service(clients, service, method, rule, role):
    settings, by_service = clients
    answer = by_service[service].open(_path(rule), method=method,
                                      headers=auth(issue_staff_token(settings, f"s-{role}", [role])))
    assert answer.status_code == 403, answer.get_json()


@pytest.mark.parametrize("service", SERVICES)
def test_a_participant_session_opens_no_staff_only_route(clients, service):
    settings, by_service = clients
    session = auth(issue_participant_token(settings, "p-1"))
    for (owner, method, rule), entry in roles.ROUTES.items():
        if owner == service and entry.kind == roles.STAFF_ONLY:
            answer = by_service[service].open(_path(rule), method=method, headers=session)
            assert answer.status_code == 403, (method, rule, answer.get_json())


def test_every_role_is_allowed_somewhere_in_every_sense():
    assert {role for *_, role, allowed in roles.matrix() if allowed} == set(STAFF_ROLES)
