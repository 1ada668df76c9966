"""The whole stack as an operator runs it (`letsconnect up` in a subprocess, on free ports), started
once per test session and shared by tests/browser (the portal in Chromium) and tests/e2e."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from letsconnect.servers import free_port
from shared.config import SERVICES

STAFF = "e2e-staff-token"


@dataclass
class RunningStack:
    process: subprocess.Popen
    env: dict[str, str]
    data_dir: Path
    ports: dict[str, int]          # the five APIs
    output: Path
    portal_port: int
    cors_origin: str               # the one web origin allowed to call the registry's public routes

    def url(self, service: str) -> str:
        port = self.portal_port if service == "portal" else self.ports[service]
        return f"http://127.0.0.1:{port}"

    @property
    def portal(self) -> str:
        return self.url("portal")

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"


def _letsconnect() -> str:
    return str(Path(sys.executable).parent / "letsconnect")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-stack")
    ports = {service: free_port() for service in SERVICES}
    portal_port = free_port()
    cors_origin = f"http://127.0.0.1:{free_port()}"
    env = dict(os.environ)
    env.update({f"LC_{s.upper()}_PORT": str(p) for s, p in ports.items()})
    env.update({"LC_DATA_DIR": str(data_dir), "LC_KAFKA_PORT": str(free_port()), "LC_MONGO_PORT": str(free_port()),
                "LC_SMTP_PORT": str(free_port()), "LC_STAFF_TOKENS": STAFF, "LC_SECRET_KEY": "e2e-secret",
                "LC_PUBLIC_BASE_URL": "http://127.0.0.1", "LC_PORTAL_PORT": str(portal_port),
                "LC_CORS_ORIGINS": cors_origin})
    env.pop("LC_PORTAL_URL", None)  # the stack points it at its own portal
    output = data_dir / "up.out"
    process = subprocess.Popen([_letsconnect(), "up"], env=env, stdout=open(output, "wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    running = RunningStack(process, env, data_dir, ports, output, portal_port, cors_origin)
    deadline = time.time() + 150
    while "is running" not in output.read_text(errors="replace"):
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            pytest.fail(f"letsconnect up did not start:\n{output.read_text(errors='replace')}")
        time.sleep(0.5)
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
