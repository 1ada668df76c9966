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

    def go(self, path: str):
        separator = "&" if "?" in path else "?"
        response = self.tab.go(f"{path}{separator}lang={self.language}")
        self.here(path)
        return response


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


# ----- phase B: a person's own pages and the pages an email link opens

@pytest.fixture(scope="module")
def two_people_with_things(stack):
    """Ana (session) made a connection naming Bea and booked a clinic seat; Bea has neither answered nor
    booked: between them, every state a phase-B page shows a form or a status in."""
    import time

    import requests

    from tests.browser.conftest import register_by_api
    from tests.browser.test_answer_journeys import CLINIC_TOPIC, a_clinic, a_clinic_body

    # no language in common: the matcher proposes nothing to them by itself
    ana = register_by_api(stack, "AxeAna", CLINIC_TOPIC, "share", languages=("ar",))
    bea = register_by_api(stack, "AxeBea", CLINIC_TOPIC, "learn", languages=("es",))
    deadline = time.time() + 120
    while True:  # the matcher learns about Bea from the registry's events
        made = requests.post(stack.url("matcher") + "/connections", timeout=30,
                             headers={"Authorization": f"Bearer {ana['token']}"},
                             json={"topic": "partnerships", "language": "en", "role": "sharer",
                                   "participants": [{"id": bea["id"], "role": "learner"}]})
        if made.status_code == 201 or time.time() > deadline:
            break
        time.sleep(1)
    assert made.status_code == 201, made.text
    # a second connection, confirmed by Bea: Ana's page then offers interpretation and the outcome summary
    confirmed = requests.post(stack.url("matcher") + "/connections", timeout=30,
                              headers={"Authorization": f"Bearer {ana['token']}"},
                              json={"topic": "fundraising", "language": "en", "role": "sharer",
                                    "participants": [{"id": bea["id"], "role": "learner"}]})
    assert confirmed.status_code == 201, confirmed.text
    done = requests.post(f"{stack.url('matcher')}/connections/{confirmed.json()['id']}/confirm", timeout=30,
                         headers={"Authorization": f"Bearer {bea['token']}"}, json={"participant": bea["id"]})
    assert done.status_code == 200 and done.json()["status"] == "confirmed", done.text
    # a clinic Ana presents (the scheduler learns she shares its topic from the registry's events)
    presented = None
    while presented is None or (presented.status_code != 201 and time.time() < deadline + 60):
        presented = requests.post(stack.url("scheduler") + "/clinics", timeout=30,
                                  headers={"Authorization": "Bearer e2e-staff-token"},
                                  json={**a_clinic_body(), "sharers": [ana["id"]]})
        time.sleep(0 if presented.status_code == 201 else 1)
    assert presented.status_code == 201, presented.text
    clinic = a_clinic(stack, seats=3)
    booked = requests.post(f"{stack.url('scheduler')}/clinics/{clinic['id']}/registrations", timeout=30,
                           headers={"Authorization": f"Bearer {ana['token']}"},
                           json={"participant": ana["id"], "slot": clinic["slots"][0]["id"], "interpretation": "ar"})
    assert booked.status_code == 201, booked.text
    return {"ana": ana, "bea": bea, "connection": made.json()["id"], "confirmed": confirmed.json()["id"],
            "clinic": clinic["id"], "presented": presented.json()["id"]}


def signed_in_tab(visit, stack, person: dict):
    tab = visit(timezone_id="Asia/Kolkata")
    tab.context.add_cookies([{"name": "lc_session", "value": person["token"], "url": stack.portal,
                              "httpOnly": True, "sameSite": "Lax"}])
    return tab


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_of_phase_b_is_accessible_in_every_language(visit, stack, two_people_with_things, reports,
                                                               language):
    things = two_people_with_things
    found = {}
    anonymous = Scan(visit(timezone_id="Asia/Kolkata"), language)
    for path in ("/sign-in", "/sign-in/sent", "/sign-in/complete?token=not-a-token", "/sign-out",
                 f"/matches/{things['connection']}", f"/clinics/{things['clinic']}?token=expired"):
        anonymous.go(path)
    anonymous.tab.go(f"/sign-in?lang={language}")
    submit(anonymous.tab.page, anonymous.tab.page.locator("form.sign-in button[type=submit]"))  # empty: its error
    anonymous.here("/sign-in (error)")
    ana = Scan(signed_in_tab(visit, stack, things["ana"]), language)
    for path in ("/me", "/me/profile", "/me/erase", f"/matches/{things['connection']}",
                 f"/matches/{things['confirmed']}", f"/clinics/{things['clinic']}", f"/clinics/{things['presented']}",
                 f"/clinics/{things['clinic']}/feedback", "/preferences?unsubscribe=reminders", "/preferences"):
        assert ana.go(path).status == 200, path  # her own page, not "please sign in"
    submit(ana.tab.page, ana.tab.page.locator("main form button[type=submit]"))  # the feedback form, empty
    assert ana.tab.page.locator("#interpretation-language").count() == 0  # (the last page: preferences)
    ana.tab.go(f"/matches/{things['confirmed']}?lang={language}")
    assert ana.tab.page.locator("#interpretation-language").is_visible() and ana.tab.page.locator("#summary").is_visible()
    ana.tab.go(f"/clinics/{things['presented']}?lang={language}")
    assert ana.tab.page.locator("#presenter").is_visible()
    ana.tab.go(f"/me/erase?lang={language}")
    submit(ana.tab.page, ana.tab.page.locator("main form button.danger"))  # not confirmed: its error
    ana.here("/me/erase (error)")
    bea = Scan(signed_in_tab(visit, stack, things["bea"]), language)
    for path in (f"/connections/{things['connection']}", f"/clinics/{things['clinic']}"):
        assert bea.go(path).status == 200, path
        assert bea.tab.page.locator("main form").count() >= 1, path  # confirm the connection; book a seat
    for scan in (anonymous, ana, bea):
        found.update({f"{path} ({scan is ana and 'ana' or scan is bea and 'bea' or 'anonymous'})": problems
                      for path, problems in scan.found.items()})
    (reports / f"axe-phase-b-{language}.json").write_text(json.dumps(found, ensure_ascii=False, indent=1))
    assert {path: problems for path, problems in found.items() if problems} == {}
    assert anonymous.tab.foreign_loads() == [] and ana.tab.foreign_loads() == [] and bea.tab.foreign_loads() == []
