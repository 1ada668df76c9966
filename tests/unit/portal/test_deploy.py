"""The portal's container in docker-compose.yml agrees with its code (compose cannot run here)."""
import importlib
from pathlib import Path

import yaml

from services.portal.config import API_URL_VARIABLES, DEFAULT_PORT
from shared.config import DEFAULT_PORTS

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[3] / "docker-compose.yml").read_text())


def test_the_portal_container_runs_the_portal_and_reaches_every_api_by_its_container():
    portal = COMPOSE["services"]["portal"]
    module, _, factory = portal["command"][-1].partition(":")
    assert callable(getattr(importlib.import_module(module), factory.removesuffix("()")))
    assert f"0.0.0.0:{DEFAULT_PORT}" in portal["command"] and portal["ports"] == [f"{DEFAULT_PORT}:{DEFAULT_PORT}"]
    for service, variable in API_URL_VARIABLES.items():
        assert portal["environment"][variable] == f"http://{service}-api:{DEFAULT_PORTS[service]}"
    assert "/readyz" in " ".join(portal["healthcheck"]["test"])
