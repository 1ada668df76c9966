"""Every portal page in all five languages: no serious or critical accessibility violation (axe-core,
shipped inside the pinned axe-playwright-python package: nothing is fetched at run time), and nothing
loaded from any host but the page's own (the APIs' /docs included)."""
from __future__ import annotations

import json
import threading

import pytest
from axe_playwright_python.sync_playwright import Axe
from werkzeug.serving import make_server

from letsconnect.servers import free_port
from services.portal.app import create_app
from services.portal.config import PortalConfig
from shared.config import SERVICES
from tests.browser.conftest import LANGUAGES, TOPICS, someone, submit

SERIOUS = ("serious", "critical")
AXE = Axe()


def serious_violations(page) -> list[dict]:
    results = AXE.run(page)
    return [{"rule": v["id"], "impact": v["impact"], "help": v["help"],
             "where": [node["target"] for node in v["nodes"]][:5]}
            for v in results.response["violations"] if v["impact"] in SERIOUS]


class Scan:
    def __init__(self, tab, language: str):
        self.tab, self.language, self.found = tab, language, {}

    def here(self, name: str) -> None:
        self.found[name] = serious_violations(self.tab.page)

    def go(self, path: str) -> None:
        separator = "&" if "?" in path else "?"
        self.tab.go(f"{path}{separator}lang={self.language}")
        self.here(path)


def register_someone(page, language: str) -> None:
    person = someone("Axe")
    page.fill("#username", person["username"])
    page.fill("#name", person["name"])
    page.fill("#email", person["email"])
    page.fill("#timezone", "Asia/Kolkata")
    page.select_option("#languages-1", language)
    page.select_option("#region", "sa")
    page.fill("#group_name", "Wikimedia India")
    page.select_option("#group_type", "user_group")
    page.select_option("#role", "volunteer")
    page.check("#purpose-organising")
    page.check(f"#learn-{TOPICS[1]}")
    submit(page, page.locator("form.registration button[type=submit]"))
    assert page.url.endswith("/register/welcome")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_portal_page_is_accessible_and_loads_only_from_the_portal(visit, seeded, reports, language):
    tab = visit(timezone_id="Asia/Kolkata")
    scan = Scan(tab, language)
    for path in ("/", "/register", "/directory", f"/directory?topic={TOPICS[0]}&direction=share", "/clinics",
                 f"/clinics/{seeded['clinic']}", "/resources", "/resources?q=plan", f"/resources/{seeded['resource']}",
                 "/no/such/page"):
        scan.go(path)
    tab.go(f"/register?lang={language}")
    register_someone(tab.page, language)
    scan.here("/register/welcome")
    (reports / f"axe-{language}.json").write_text(json.dumps(scan.found, ensure_ascii=False, indent=1))
    assert {path: found for path, found in scan.found.items() if found} == {}
    assert tab.foreign_loads() == []


@pytest.mark.parametrize("language", ("en", "ar"))
def test_the_forms_answers_are_accessible(visit, seeded, language):
    """The registration page showing every field error, then a refusal: the same page as above with
    more in it, checked left to right and right to left."""
    tab = visit(timezone_id="Asia/Kolkata")
    page = tab.page
    scan = Scan(tab, language)
    tab.go(f"/register?lang={language}")
    submit(page, page.locator("form.registration button[type=submit]"))  # nothing filled: every field error
    assert page.locator(".field-errors").count() >= 6
    scan.here("/register (errors)")
    person = someone("Axe")
    page.fill("#username", person["username"])
    page.fill("#name", person["name"])
    page.fill("#email", person["email"])
    page.select_option("#region", "sa")
    page.select_option("#role", "none")
    page.check("#purpose-own_editing")
    page.check(f"#learn-{TOPICS[1]}")
    submit(page, page.locator("form.registration button[type=submit]"))
    assert page.locator("#refusal").is_visible()
    scan.here("/register (refused)")
    assert {state: found for state, found in scan.found.items() if found} == {}
    assert tab.foreign_loads() == []


@pytest.fixture(scope="module")
def portal_without_services(stack):
    """A portal whose services are all down: its pages must still be readable (the 503 page)."""
    config = PortalConfig(api_urls={service: f"http://127.0.0.1:{free_port()}" for service in SERVICES},
                          secret_key="a11y", connect_timeout_seconds=0.5)
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_the_service_down_page_is_accessible_in_every_language(visit, portal_without_services):
    tab = visit(base=portal_without_services)
    found = {}
    for language in LANGUAGES:
        response = tab.go(f"/clinics?lang={language}")
        assert response.status == 503
        found[language] = serious_violations(tab.page)
    assert {language: problems for language, problems in found.items() if problems} == {}
    assert tab.foreign_loads() == []


def test_an_api_docs_page_loads_only_from_its_own_service(visit, stack):
    """In a real browser (Swagger UI fetches its spec and may fetch more); every service's /docs shares the
    same code (shared/web.py), and tests/integration/test_api_docs.py checks all five pages and assets."""
    base = stack.url("registry")
    tab = visit(base=base)
    tab.go("/docs")
    tab.page.wait_for_selector(".swagger-ui .info .title")
    assert "Let's Connect" in tab.page.locator(".swagger-ui .info .title").inner_text()
    assert tab.foreign_loads() == []
