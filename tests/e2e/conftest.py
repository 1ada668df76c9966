"""The whole stack as an operator runs it: `letsconnect up` in a subprocess, on free ports."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from letsconnect.servers import free_port, port_taken
from shared.config import SERVICES

STAFF = "e2e-staff-token"


@dataclass
class RunningStack:
    process: subprocess.Popen
    env: dict[str, str]
    data_dir: Path
    ports: dict[str, int]
    output: Path

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"


def _letsconnect() -> str:
    return str(Path(sys.executable).parent / "letsconnect")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("e2e-stack")
    ports = {service: free_port() for service in SERVICES}
    env = dict(os.environ)
    env.update({f"LC_{s.upper()}_PORT": str(p) for s, p in ports.items()})
    env.update({"LC_DATA_DIR": str(data_dir), "LC_KAFKA_PORT": str(free_port()), "LC_MONGO_PORT": str(free_port()),
                "LC_SMTP_PORT": str(free_port()), "LC_STAFF_TOKENS": STAFF, "LC_SECRET_KEY": "e2e-secret",
                "LC_PUBLIC_BASE_URL": "http://127.0.0.1"})
    output = data_dir / "up.out"
    process = subprocess.Popen([_letsconnect(), "up"], env=env, stdout=open(output, "wb"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    running = RunningStack(process, env, data_dir, ports, output)
    deadline = time.time() + 120
    while "is running" not in output.read_text(errors="replace"):
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            pytest.fail(f"letsconnect up did not start:\n{output.read_text(errors='replace')}")
        time.sleep(0.5)
    yield running
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(60)


def stop_stack(running: RunningStack) -> int:
    running.process.send_signal(signal.SIGTERM)
    return running.process.wait(60)


def staff_headers() -> dict:
    return {"Authorization": f"Bearer {STAFF}"}


def wait_all_down(ports, timeout=20) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not any(port_taken(p) for p in ports):
            return True
        time.sleep(0.3)
    return False


def get(url: str, **kw):
    return requests.get(url, timeout=10, **kw)
