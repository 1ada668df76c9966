"""docker-compose.yml cannot be run here (no Docker engine), so check it against the code."""
import importlib
import re
from pathlib import Path

import pytest
import yaml

from letsconnect.cli import main as cli_main
from shared.config import DEFAULT_PORTS, SERVICES

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def lc_variables_in_code() -> set[str]:
    found = set()
    for folder in ("shared", "services", "letsconnect"):
        for path in (ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r"\bLC_[A-Z0-9_]+\b", path.read_text(encoding="utf-8")))
    return found | {f"LC_{name.upper()}_PORT" for name in SERVICES}  # read as f"LC_{name}_PORT"


def test_every_service_has_an_api_and_a_worker_container_from_one_dockerfile():
    services = COMPOSE["services"]
    for name in SERVICES:
        for role in ("api", "worker"):
            container = services[f"{name}-{role}"]
            assert container["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (ROOT / "deploy" / "Dockerfile").exists()
    assert {"kafka", "mongo", "mail", "prometheus"} <= set(services)


@pytest.mark.parametrize("name", SERVICES)
def test_commands_point_at_code_that_exists(name):
    api = COMPOSE["services"][f"{name}-api"]["command"]
    target = api[-1]
    module, _, factory = target.partition(":")
    assert callable(getattr(importlib.import_module(module), factory.removesuffix("()")))
    worker = COMPOSE["services"][f"{name}-worker"]["command"]
    assert worker[:2] == ["python", "-m"]
    assert callable(importlib.import_module(worker[2]).build_worker)


@pytest.mark.parametrize("name", SERVICES)
def test_api_ports_agree_with_configuration_and_prometheus(name):
    container = COMPOSE["services"][f"{name}-api"]
    port = DEFAULT_PORTS[name]
    assert f"0.0.0.0:{port}" in container["command"]
    assert container["environment"][f"LC_{name.upper()}_PORT"] == str(port)
    assert container["ports"] == [f"{port}:{port}"]
    assert f"{name}-api:{port}" in (ROOT / "deploy" / "prometheus.yml").read_text()


def test_every_environment_variable_is_one_the_code_reads():
    known = lc_variables_in_code()
    for name, container in COMPOSE["services"].items():
        for variable in (container.get("environment") or {}):
            if variable.startswith("LC_"):
                assert variable in known, f"{name} sets {variable}, which no code reads"


def test_topic_creation_command_exists():
    with pytest.raises(SystemExit) as help_exit:
        cli_main(["topics", "--help"])
    assert help_exit.value.code == 0
    assert COMPOSE["services"]["topics"]["command"] == ["letsconnect", "topics"]


def test_mongo_runs_as_a_replica_set_for_transactions():
    mongo = COMPOSE["services"]["mongo"]
    assert "--replSet" in mongo["command"]
    assert "replicaSet=rs0" in COMPOSE["services"]["registry-api"]["environment"]["LC_MONGO_URI"]


def test_production_relays_are_woken_by_change_streams_on_the_replica_set():
    for name in (f"{service}-worker" for service in SERVICES):
        assert COMPOSE["services"][name]["environment"]["LC_OUTBOX_WAKE"] == "change-stream"


def test_secrets_come_only_from_an_env_file_and_the_stack_runs_as_production():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "change-me" not in text
    for name, container in COMPOSE["services"].items():
        if container.get("build"):
            assert container["env_file"] == [".env"], name
            environment = container.get("environment") or {}
            assert "LC_SECRET_KEYS" not in environment and "LC_STAFF_TOKENS" not in environment, name
            assert environment.get("LC_ENV") == "production", name
    example = (ROOT / "deploy" / "env.example").read_text()
    assert "LC_SECRET_KEYS=\n" in example and "LC_STAFF_TOKENS=\n" in example  # placeholders without values


@pytest.mark.parametrize("name", SERVICES)
def test_every_api_loads_the_shared_gunicorn_config(name):
    command = COMPOSE["services"][f"{name}-api"]["command"]
    assert "--config=python:shared.gunicorn_config" in command
    assert "--config=python:shared.gunicorn_config" in (ROOT / "deploy" / "Dockerfile").read_text()


def test_every_long_running_container_restarts_and_has_a_health_check():
    for name, container in COMPOSE["services"].items():
        if name == "topics":  # a one-shot job: retried until the topics exist
            assert container["restart"] == "on-failure"
            continue
        assert container.get("restart") == "unless-stopped", f"{name} is not restarted when it exits"
        assert container.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_workers_get_time_to_drain_before_they_are_killed():
    for name in SERVICES:
        worker = COMPOSE["services"][f"{name}-worker"]
        grace = int(worker["stop_grace_period"].removesuffix("s"))
        assert grace > float(worker["environment"]["LC_DRAIN_SECONDS"])
