"""docs/examples/cors-form.html, a community's own form on another web origin, registers people in
the registry through the CORS allow-list (LC_CORS_ORIGINS); an origin not on the list cannot."""
from __future__ import annotations

import functools
import http.server
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from letsconnect.servers import free_port
from tests.browser.conftest import TOPICS

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"


def serve_examples(port: int):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(EXAMPLES))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def allowed_site(stack):
    server = serve_examples(urlsplit(stack.cors_origin).port)  # the origin the stack's LC_CORS_ORIGINS lists
    yield stack.cors_origin
    server.shutdown()
    server.server_close()


@pytest.fixture
def other_site():
    port = free_port()
    server = serve_examples(port)
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def fill_and_send(visit, site: str, stack) -> str:
    tab = visit(base=site)
    page = tab.page
    tab.go(f"/cors-form.html?registry={stack.url('registry')}")
    tag = uuid.uuid4().hex[:6]
    page.fill("input[name=username]", f"Community form {tag}")
    page.fill("input[name=name]", "Kwame")
    page.fill("input[name=email]", f"kwame.{tag}@example.org")
    page.select_option("select[name=region]", "ssa")
    if page.locator("select[name=learn] option").count():
        page.select_option("select[name=learn]", TOPICS[2])
    page.get_by_role("button", name="Register").click()
    status = page.locator("#result")
    status.filter(has_text=" ").wait_for()
    return status.inner_text()


def test_a_community_form_on_an_allowed_origin_registers_through_the_registry(visit, stack, allowed_site):
    assert fill_and_send(visit, allowed_site, stack) == "Registered. Welcome, Kwame! Look for our welcome email."


def test_a_form_on_another_origin_is_stopped_by_the_browser(visit, stack, other_site):
    assert fill_and_send(visit, other_site, stack).startswith("The registry could not be reached")
