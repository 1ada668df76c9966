"""Every route of every service, fuzzed from its own OpenAPI document with schemathesis (issue 12,
item 5): no input, token or id makes a service answer 5xx, and every answer whose status the
document describes (and every error answer, through its `default`) has the documented shape.

Each service's Flask app runs on the session's embedded servers (its own database and topics) and is
called in-process (WSGI). Cases come in both modes: positive (bodies and parameters the document
allows, so the routes get past validation) and negative (what it forbids, which must be a 4xx).
Each case goes with no token, a staff token or a participant's session token, and its path ids are
sometimes replaced by ids that exist (the participant, a clinic, a space, a resource), so the
authenticated and deeper code paths run too. Bounded: LC_FUZZ_EXAMPLES cases per operation and mode
(default 20); the module prints how many requests it made and what it found.
"""
from __future__ import annotations

import importlib
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hypothesis_settings, strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.failures import Failure, FailureGroup

from shared.config import SERVICES
from shared.mongo import database
from tests.support import STAFF, auth, eventually, namespaced_settings, running

EXAMPLES = int(os.environ.get("LC_FUZZ_EXAMPLES", "10"))
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)

REGISTRATION = {
    "username": "Fuzz Person", "name": "Fuzz Person", "email": "fuzz@example.org", "languages": ["en", "ar"],
    "timezone": "Africa/Cairo", "region": "mena", "group": {"name": "Wikimedia Egypt", "type": "user_group"},
    "role": "board", "purpose": "organising", "activities": ["training"],
    "interests": [{"topic": "budget-development", "direction": "learn"},
                  {"topic": "newcomer-training", "direction": "share"}],
    "consent": {"public_profile": True, "share_contact": True, "recording": False},
}


@dataclass
class Findings:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list = field(default_factory=list)
    nonconforming: list = field(default_factory=list)
    unsatisfiable: list = field(default_factory=list)


FOUND: dict[str, Findings] = {}


def _seeded(apps, token) -> dict:
    """A clinic, a learning space and a resource of the participant's: ids that exist, so fuzzed
    cases reach past "not found"."""
    soon = (datetime.now(timezone.utc) + timedelta(days=5)).replace(microsecond=0).isoformat()
    scheduler, resources = apps["scheduler"].test_client(), apps["resources"].test_client()
    clinic = scheduler.post("/clinics", headers=auth(STAFF), json={
        "kind": "monthly", "title": "Fuzzed clinic", "topics": ["budget-development"], "language": "en", "seats": 5,
        "slots": [{"start": soon, "minutes": 90}], "meeting_url": "https://meet.example.org/fuzz"})
    assert clinic.status_code == 201, clinic.get_json()
    clinic = clinic.get_json()
    space = scheduler.post("/spaces", headers=auth(STAFF), json={
        "kind": "community_of_practice", "title": "Fuzzed circle", "topics": ["budget-development"],
        "languages": ["en"], "link": "https://meta.example.org/circle", "region": "mena", "start": soon,
        "minutes": 60, "recurrence": "FREQ=MONTHLY;BYDAY=2TU"})
    assert space.status_code == 201, space.get_json()
    resource = resources.post("/resources", headers=auth(token), json={
        "title": "Fuzzed budget", "description": "A budget.", "kind": "deck", "language": "en",
        "url": "https://commons.example.org/fuzz.pdf", "topics": ["budget-development"],
        "authors": ["Fuzz Person"], "license": "CC-BY-SA-4.0"})
    assert resource.status_code == 201, resource.get_json()
    return {"clinic_id": clinic["id"], "space_id": space.get_json()["id"], "resource_id": resource.get_json()["id"]}


@pytest.fixture(scope="module")
def platform(servers, request):
    """One app per service on the session's servers (their own database and topics), a registered
    participant whom every service has heard of (from the registry's event, through each service's
    worker; their session token works in every service: one signing key) and a few records whose ids
    the fuzzer may use."""
    settings = namespaced_settings(servers)
    apps = {name: importlib.import_module(f"services.{name}.app").create_app(settings) for name in SERVICES}
    workers = [importlib.import_module(f"services.{name}.worker").build_worker(settings) for name in SERVICES]
    with running(*workers):
        registered = apps["registry"].test_client().post("/participants", json=REGISTRATION)
        assert registered.status_code == 201, registered.get_json()
        participant = registered.get_json()
        pid, token = participant["id"], participant["token"]
        for name in ("matcher", "scheduler", "notifier", "resources"):
            inbox = database(settings, name)["inbox"]
            eventually(lambda: inbox.find_one({"type": "participant-registered"}), message=f"{name} heard of them")
        known = {"participant_id": pid, "participant": pid, **_seeded(apps, token)}
    # The workers stop once every service knows the participant: what the fuzzer writes need not
    # travel further, and their polling would cost this shared machine's CPU.
    yield apps, known, token
    total = Findings()
    lines = []
    for name, found in FOUND.items():
        total.requests += found.requests
        total.statuses.update(found.statuses)
        total.server_errors += found.server_errors
        total.nonconforming += found.nonconforming
        lines.append(f"fuzz {name}: {found.requests} requests, {len(found.server_errors)} 5xx, "
                     f"{len(found.nonconforming)} not as documented; statuses {dict(sorted(found.statuses.items()))}"
                     + (f"; nothing to make invalid in {len(found.unsatisfiable)} operations" if found.unsatisfiable else ""))
    lines.append(f"fuzz all services: {total.requests} requests, {len(total.server_errors)} 5xx, "
                 f"{len(total.nonconforming)} not as documented (LC_FUZZ_EXAMPLES={EXAMPLES} per operation and mode)")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # the figures are printed even when every test passes
        print("\n" + "\n".join(lines))


def ends_a_known_record(operation) -> bool:
    """Erasing the participant, reissuing their token (every older one stops working), deleting or
    cancelling a seeded record would leave every later case a 401, 404 or 410: those operations are
    fuzzed on made-up ids only."""
    return operation.method.upper() == "DELETE" or operation.path.endswith(("/token", "/cancel"))


def _validate(operation, case, response) -> str | None:
    """The documented shape: the status's own response, or `default` for an error. A success whose
    status the document does not list has no documented body to hold it to."""
    documented = operation.definition.raw.get("responses", {})
    if str(response.status_code) not in documented and response.status_code < 400:
        return None
    try:
        operation.validate_response(response, case=case)
    except FailureGroup as failures:
        return "; ".join(f"{f.title}: {f.message}" for f in failures.exceptions)[:600]
    except Failure as failure:  # one failure is raised alone, not in a group
        return f"{failure.title}: {failure.message}"[:600]
    return None


@pytest.mark.parametrize("service", SERVICES)
def test_no_route_answers_5xx_or_off_its_document(platform, service):
    apps, known, participant_token = platform
    app = apps[service]
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    found = FOUND.setdefault(service, Findings())
    tokens = {"none": {}, "staff": auth(STAFF), "participant": auth(participant_token)}

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in MODES:
            @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                                 phases=[Phase.explicit, Phase.generate],
                                 suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode), who=st.sampled_from(sorted(tokens)),
                   use_known=st.booleans())
            def exercise(case, who, use_known):
                if use_known and case.path_parameters and not ends_a_known_record(operation):
                    for name in case.path_parameters:
                        if name in known:
                            case.path_parameters[name] = known[name]
                headers = dict(case.headers or {})
                headers.pop("Authorization", None)
                headers.update(tokens[who])
                case.headers = headers
                response = case.call()
                found.requests += 1
                found.statuses[response.status_code] += 1
                where = f"{case.method} {case.formatted_path} ({mode.value}, {who})"
                if response.status_code >= 500:
                    found.server_errors.append(f"{where} -> {response.status_code}: {response.text[:200]}")
                    return
                if mode is GenerationMode.POSITIVE or response.status_code >= 400:
                    problem = _validate(operation, case, response)
                    if problem:
                        found.nonconforming.append(f"{where} -> {response.status_code}: {problem}")

            try:
                exercise()
            except Unsatisfiable:  # nothing in this operation can be made invalid (no parameters, no body)
                found.unsatisfiable.append(f"{operation.method.upper()} {operation.path} ({mode.value})")

    assert not found.server_errors, "\n".join(found.server_errors[:40])
    assert not found.nonconforming, "\n".join(found.nonconforming[:40])
