"""Helpers of the end-to-end tests on the whole stack (`letsconnect up`, fixture `stack`)."""
from __future__ import annotations

import signal
import time

import requests

from letsconnect.servers import port_taken

# The stack itself is started once per session in tests/stack.py (shared with tests/browser).
from tests.stack import STAFF, RunningStack, _letsconnect, launch, stack_env  # noqa: E402,F401


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
