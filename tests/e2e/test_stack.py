"""`letsconnect up` starts everything, refuses a second start clearly, and stops cleanly."""
import subprocess

import pytest

from shared.config import SERVICES
from tests.e2e.conftest import _letsconnect, get, stop_stack, wait_all_down


def test_up_prints_where_everything_runs(stack):
    text = stack.output.read_text()
    for service in SERVICES:
        assert f"http://127.0.0.1:{stack.ports[service]}" in text
    assert f"portal     http://127.0.0.1:{stack.portal_port}" in text
    assert "SMTP sink" in text and str(stack.data_dir / "mail") in text


def test_every_service_is_healthy_ready_and_serves_metrics_and_openapi(stack):
    for service in SERVICES:
        assert get(f"{stack.url(service)}/healthz").json()["service"] == service
        ready = get(f"{stack.url(service)}/readyz")
        assert ready.status_code == 200, ready.text
        assert "lc_http_requests_total" in get(f"{stack.url(service)}/metrics").text
        assert get(f"{stack.url(service)}/openapi.json").json()["openapi"].startswith("3.")


def test_starting_twice_gives_a_clear_message_not_a_traceback(stack):
    second = subprocess.run([_letsconnect(), "up"], env=stack.env, capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    assert "already running" in second.stderr
    assert "Traceback" not in second.stderr + second.stdout


@pytest.mark.stops_shared_stack
def test_zz_sigterm_stops_everything(stack):
    """Runs last (marked): the stack shuts down every process and frees every port."""
    assert stop_stack(stack) == 0
    assert wait_all_down([*stack.ports.values(), stack.portal_port]), "a port is still open after stop"


def test_a_taken_port_gives_a_clear_message(tmp_path):
    import os
    import socket

    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        env = {**os.environ, "LC_DATA_DIR": str(tmp_path), "LC_REGISTRY_PORT": str(port)}
        result = subprocess.run([_letsconnect(), "up"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"registry on {port}" in result.stderr and "already in use" in result.stderr
    assert "Traceback" not in result.stderr
