"""The whole stack as an operator runs it (`letsconnect up` in a subprocess, on free ports), started
once per test session and shared by tests/browser (the portal in Chromium) and tests/e2e;
tests/chaos launches stacks of its own with the same helpers."""
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

    @property
    def portal_port(self) -> int:
        return int(self.env["LC_PORTAL_PORT"])

    @property
    def cors_origin(self) -> str:
        """The one web origin allowed to call the registry's public routes."""
        return self.env["LC_CORS_ORIGINS"]

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


def stack_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a `letsconnect up` on free ports with its data in `data_dir`."""
    env = dict(os.environ)
    env.pop("LC_PORTAL_URL", None)  # the stack points it at its own portal
    env.update({f"LC_{s.upper()}_PORT": str(free_port()) for s in SERVICES})
    env.update({"LC_DATA_DIR": str(data_dir), "LC_KAFKA_PORT": str(free_port()), "LC_MONGO_PORT": str(free_port()),
                "LC_SMTP_PORT": str(free_port()), "LC_STAFF_TOKENS": STAFF, "LC_SECRET_KEY": "e2e-secret",
                "LC_PUBLIC_BASE_URL": "http://127.0.0.1", "LC_PORTAL_PORT": str(free_port()),
                "LC_CORS_ORIGINS": f"http://127.0.0.1:{free_port()}", **extra})
    return env


def launch(data_dir: Path, env: dict[str, str], timeout: float = 180) -> RunningStack:
    """`letsconnect up` in a session of its own, once it says it is running (its output is appended
    to data_dir/up.out, so a second launch on the same folder waits for its own announcement)."""
    output = data_dir / "up.out"
    seen = output.read_text(errors="replace").count("is running") if output.exists() else 0
    process = subprocess.Popen([_letsconnect(), "up"], env=env, stdout=open(output, "ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    ports = {service: int(env[f"LC_{service.upper()}_PORT"]) for service in SERVICES}
    running = RunningStack(process, env, data_dir, ports, output)
    deadline = time.time() + timeout
    while output.read_text(errors="replace").count("is running") <= seen:
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            pytest.fail(f"letsconnect up did not start:\n{output.read_text(errors='replace')}")
        time.sleep(0.5)
    return running


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-stack")
    running = launch(data_dir, stack_env(data_dir))
    yield running
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
        running.process.wait(60)
