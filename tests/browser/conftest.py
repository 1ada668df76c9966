"""Browser tests: Playwright for Python driving Debian's Chromium against the whole stack
(`letsconnect up`, the session's shared `stack` fixture from tests/stack.py).

Playwright's own browser download is not reachable here: `make test` installs Debian's chromium
(apt-get) and the tests launch it by path. Screenshots and other artefacts go to reports/browser/.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from tests.stack import STAFF

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REPORTS = Path(__file__).resolve().parents[2] / "reports" / "browser"
LANGUAGES = ("en", "ar", "es", "fr", "pt")
# People the browser registers learn the demo's most wanted topics (tests/e2e runs the demo on the same stack).
TOPICS = ("organisation-strategy", "query-tools", "learning-evaluation-plans")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def reports() -> Path:
    REPORTS.mkdir(parents=True, exist_ok=True)
    return REPORTS


class Visit:
    """A browser tab on the portal that remembers every URL the page made the browser load."""

    def __init__(self, context, base: str):
        self.context = context
        self.base = base
        self.page = context.new_page()
        self.page.set_default_timeout(60_000)  # the machine is shared: a slow answer is not a failure here
        self.loaded: list[str] = []
        self.page.on("request", lambda request: self.loaded.append(request.url))

    def go(self, path: str):
        # "load": the page and everything it references. The portal's script fetches nothing after
        # that, so waiting for network quiet would only add its half-second of silence per page.
        return self.page.goto(self.base + path, wait_until="load")

    def foreign_loads(self, origin: str | None = None) -> list[str]:
        own = origin or self.base
        return [url for url in self.loaded if not (url.startswith(own + "/") or url == own)]


@pytest.fixture
def visit(browser, stack):
    contexts = []

    def open_tab(timezone_id: str = "Africa/Nairobi", locale: str = "en-GB", base: str | None = None) -> Visit:
        context = browser.new_context(locale=locale, timezone_id=timezone_id, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        return Visit(context, base or stack.portal)

    yield open_tab
    for context in contexts:
        context.close()


def staff(stack, method: str, service: str, path: str, **kwargs):
    answer = requests.request(method, stack.url(service) + path, headers={"Authorization": f"Bearer {STAFF}"},
                              timeout=30, **kwargs)
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None


@pytest.fixture(scope="session")
def seeded(stack):
    """What the browse pages show: public profiles, an upcoming clinic, a resource with a translation."""
    for index, (region, topic) in enumerate((("mena", TOPICS[0]), ("lac", TOPICS[1]), ("esea", TOPICS[2]))):
        tag = uuid.uuid4().hex[:6]
        staff(stack, "POST", "registry", "/participants", json={
            "username": f"Seed {tag}", "name": ["Layla", "Lucía", "Siti"][index], "email": f"seed.{tag}@example.org",
            "languages": [["ar", "en"], ["es", "pt"], ["id", "en"]][index], "timezone": "Africa/Cairo",
            "region": region, "group": {"name": f"Seed group {tag}", "type": "user_group"}, "role": "volunteer",
            "purpose": "organising", "interests": [{"topic": topic, "direction": "share", "note": "Our case study"}],
            "consent": {"public_profile": True, "share_contact": True, "recording": True}})
    start = (datetime.now(timezone.utc) + timedelta(days=21)).replace(hour=9, minute=0, second=0, microsecond=0)
    clinic = staff(stack, "POST", "scheduler", "/clinics", json={
        "kind": "monthly", "title": "Planning what we learn", "description": "Three affiliates share their plans.",
        "topics": ["learning-evaluation-plans"], "slots": [{"start": start.isoformat(), "minutes": 90},
                                                           {"start": (start + timedelta(hours=9)).isoformat(),
                                                            "minutes": 90}],
        "language": "en", "interpretation": ["ar", "fr", "es", "pt"], "seats": 20})
    resource = staff(stack, "POST", "resources", "/resources", json={
        "title": "Learning plan template", "description": "A one-page template for a group's learning plan.",
        "kind": "guideline", "url": "https://commons.example.org/learning-plan.pdf", "language": "en",
        "topics": ["learning-evaluation-plans"], "authors": ["Let's Connect working group"]})
    staff(stack, "POST", "resources", f"/resources/{resource['id']}/translations",
          json={"language": "ar", "title": "نموذج خطة التعلم", "url": "https://commons.example.org/ar.pdf"})
    return {"clinic": clinic["id"], "resource": resource["id"]}


def submit(page, button) -> None:
    """Click a form's button and wait until the page it leads to has loaded completely (the portal's
    answer to a POST is the same URL: waiting for a URL or for network quiet could look at the old
    page, or at the new one half parsed)."""
    with page.expect_navigation(wait_until="load"):
        button.click()


def mail_to(maildir: Path, address: str, timeout: float = 60.0, template: str | None = None):
    """The first message the mail sink filed for `address` (the notifier sends it through the events),
    of `template` when given: a registration's welcome and its first proposal can be filed in
    either order."""
    import email
    import time
    from email.policy import default

    deadline = time.time() + timeout
    while time.time() < deadline:
        for path in sorted((maildir / "new").glob("*")) if (maildir / "new").exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=default)
            if (address in str(message["X-Envelope-To"] or "")
                    and template in (None, message["X-LetsConnect-Template"])):
                return message
        time.sleep(0.5)
    raise AssertionError(f"no message for {address} in {maildir} within {timeout:.0f}s")


def someone(prefix: str = "Browser") -> dict:
    tag = uuid.uuid4().hex[:8]
    return {"username": f"{prefix} {tag}", "name": f"{prefix} {tag[:4]}", "email": f"{prefix.lower()}.{tag}@example.org"}


def links_in_mail(maildir: Path, address: str, fragment: str, scope: str | None = None, timeout: float = 90.0,
                  at_least: int = 1) -> list[str]:
    """Every link (path and query, without the portal's address) containing `fragment` in the messages
    filed for `address`, waiting until there is one; `scope`: only links whose token has that scope."""
    import base64
    import email
    import json
    import re
    import time
    from email.policy import default
    from urllib.parse import parse_qs, urlsplit

    def token_scope(url: str) -> str | None:
        token = (parse_qs(urlsplit(url).query).get("token") or [""])[0]
        try:
            payload = token.split(".")[1]
            return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))).get("scope")
        except (IndexError, ValueError):
            return None

    deadline = time.time() + timeout
    while True:
        found = []
        for path in sorted((maildir / "new").glob("*")) if (maildir / "new").exists() else []:
            message = email.message_from_bytes(path.read_bytes(), policy=default)
            if address not in str(message["X-Envelope-To"] or ""):
                continue
            body = message.get_body(preferencelist=("plain",))
            for url in re.findall(r"https?://[^\s<>\"]+", body.get_content() if body else ""):
                if fragment in url and (scope is None or token_scope(url) == scope):
                    parts = urlsplit(url)
                    found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        found = list(dict.fromkeys(found))
        if len(found) >= at_least or time.time() > deadline:
            break
        time.sleep(0.5)
    assert len(found) >= at_least, f"no link with {fragment!r} (scope {scope}) in mail to {address} within {timeout:.0f}s"
    return found


def register_by_api(stack, prefix: str, topic: str, direction: str, *, languages=("en",), region: str = "nwe",
                    timezone_name: str = "Europe/Berlin", group: str | None = None) -> dict:
    """A participant registered through the registry's public API (as a community's own form would):
    {id, token, email, name, username}."""
    person = someone(prefix)
    answer = requests.post(stack.url("registry") + "/participants", timeout=30, json={
        **person, "languages": list(languages), "timezone": timezone_name, "region": region,
        "group": {"name": group or f"{prefix} group {uuid.uuid4().hex[:6]}", "type": "user_group"},
        "role": "volunteer", "purpose": "organising",
        "interests": [{"topic": topic, "direction": direction}],
        "consent": {"public_profile": False, "share_contact": True, "recording": True}})
    assert answer.status_code == 201, answer.text
    return {**person, "id": answer.json()["id"], "token": answer.json()["token"]}
