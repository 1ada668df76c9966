"""Directory, clinics and resources as pages: the APIs' data, in the viewer's language, zone and locale;
every page keeps to its own origin; a service down is a friendly 503, never a traceback."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from services.portal.security import CONTENT_SECURITY_POLICY
from tests.integration.portal.conftest import loads, portal_config, text


def register(platform, region: str, topic: str, direction: str, public: bool = True, **extra) -> dict:
    tag = uuid.uuid4().hex[:8]
    body = {"username": f"Browse {tag}", "name": f"Person {tag}", "email": f"{tag}@example.org",
            "languages": ["es", "en"], "timezone": "America/Bogota", "region": region,
            "group": {"name": f"Group {tag}", "type": "chapter"}, "role": "volunteer", "purpose": "organising",
            "interests": [{"topic": topic, "direction": direction}],
            "consent": {"public_profile": public, "share_contact": True, "recording": False}, **extra}
    answer = platform.staff("POST", "registry", "/participants", json=body)
    assert answer.status_code == 201, answer.text
    return body


@pytest.fixture(scope="module")
def clinic(platform):
    start = (datetime.now(timezone.utc) + timedelta(days=20)).replace(hour=14, minute=0, second=0, microsecond=0)
    body = {"kind": "monthly", "title": "Budgets that tell a story", "description": "Three affiliates, three budgets.",
            "topics": ["budget-development"], "slots": [{"start": start.isoformat(), "minutes": 90},
                                                      {"start": (start + timedelta(hours=8)).isoformat(), "minutes": 90}],
            "language": "en", "interpretation": ["ar", "fr"], "seats": 3}
    answer = platform.staff("POST", "scheduler", "/clinics", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


@pytest.fixture(scope="module")
def resource(platform):
    body = {"title": "Guide de budget participatif", "description": "Comment construire un budget avec la communauté.",
            "kind": "guideline", "url": "https://commons.example.org/budget.pdf", "language": "fr",
            "topics": ["budget-development"], "authors": ["Wikimédia France"], "license": "CC-BY-SA-4.0"}
    created = platform.staff("POST", "resources", "/resources", json=body)
    assert created.status_code == 201, created.text
    resource_id = created.json()["id"]
    platform.staff("POST", "resources", f"/resources/{resource_id}/translations",
                   json={"language": "ar", "title": "دليل الميزانية التشاركية", "url": "https://commons.example.org/ar.pdf"})
    return resource_id


def test_the_directory_filters_by_region_and_pages_through_public_profiles_only(platform):
    shown = [register(platform, "lac", "fundraising", "share") for _ in range(3)]
    hidden = register(platform, "lac", "fundraising", "share", public=False)
    elsewhere = register(platform, "sa", "fundraising", "share")
    client = platform.portal(page_size=2)
    first = client.get("/directory?region=lac&topic=fundraising&direction=share&lang=es")
    page = first.get_data(as_text=True)
    assert first.status_code == 200
    words = text(page)
    assert "Puede compartir" in words and "Recaudación de fondos" in words and "español y inglés" in words
    assert hidden["name"] not in page and elsewhere["name"] not in page
    next_link = page[page.index('rel="next"') - 300:page.index('rel="next"')]
    assert "cursor=" in next_link and "region=lac" in next_link
    href = next_link[next_link.rindex('href="') + 6:].split('"')[0].replace("&amp;", "&")
    second = text(client.get(href).get_data(as_text=True))
    names = [person["name"] for person in shown]
    assert sum(name in words for name in names) == 2 and sum(name in second for name in names) == 1


def test_clinics_show_times_in_the_viewers_zone_and_language_with_seats_and_interpretation(platform, clinic):
    client = platform.portal()
    listing = client.get("/clinics?tz=Asia/Kolkata&lang=fr")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "lc_tz=Asia/Kolkata" in listing.headers.get("Set-Cookie", "") or "lc_tz=Asia/Kolkata" in str(
        listing.headers.getlist("Set-Cookie"))
    words = text(page)
    assert "Budgets that tell a story" in words and "Clinique mensuelle sur un sujet d’actualité" in words
    assert "arabe et français" in words and "3 places restantes" in words
    assert "heure : Inde (UTC+05:30)" in words
    assert f'datetime="{clinic["slots"][0]["start"].replace("+00:00", "Z")}"' in page
    detail = client.get(f"/clinics/{clinic['id']}")  # the zone and language are remembered
    words = text(detail.get_data(as_text=True))
    assert "heure : Inde (UTC+05:30)" in words and "Ajouter à mon agenda (.ics)" in words
    calendar = client.get(f"/clinics/{clinic['id']}.ics")
    assert calendar.status_code == 200 and calendar.mimetype == "text/calendar"
    body = calendar.get_data(as_text=True)
    assert "BEGIN:VCALENDAR" in body and "TZID=Asia/Kolkata" in body and body.count("BEGIN:VEVENT") == 2


def test_a_full_slot_says_so(platform):
    start = (datetime.now(timezone.utc) + timedelta(days=30)).replace(microsecond=0)
    created = platform.staff("POST", "scheduler", "/clinics", json={
        "kind": "quarterly", "title": "Reporting season", "topics": ["reporting-storytelling"],
        "slots": [{"start": start.isoformat(), "minutes": 60}], "language": "es", "seats": 1, "region": "lac"}).json()
    person = register(platform, "lac", "reporting-storytelling", "learn")
    participant = next(p for p in platform.staff("GET", "registry", "/directory", params={"limit": 200}).json()["items"]
                       if p["name"] == person["name"])
    seat = platform.staff("POST", "scheduler", f"/clinics/{created['id']}/registrations",
                          json={"participant": participant["id"], "slot": created["slots"][0]["id"]})
    assert seat.status_code == 201, seat.text
    words = text(platform.portal().get(f"/clinics/{created['id']}?lang=pt").get_data(as_text=True))
    assert "Lotado: novas reservas entram na lista de espera" in words


def test_a_resource_is_found_by_search_and_shows_its_translations(platform, resource):
    client = platform.portal()
    found = text(client.get("/resources?q=budget+participatif&lang=ar").get_data(as_text=True))
    assert "Guide de budget participatif" in found and "دليل إرشادي" in found and "الفرنسية" in found
    detail = client.get(f"/resources/{resource}")
    page = detail.get_data(as_text=True)
    assert "دليل الميزانية التشاركية" in page and 'hreflang="ar"' in page
    assert 'href="https://commons.example.org/budget.pdf" rel="noopener noreferrer"' in page


def test_unknown_things_are_friendly_404_pages(platform):
    client = platform.portal()
    for path in ("/clinics/doesnotexist", "/resources/doesnotexist", "/no/such/page", "/clinics/..%2F..%2Fstats"):
        answer = client.get(path + "?lang=es")
        assert answer.status_code == 404, path
        assert "No encontramos esta página" in text(answer.get_data(as_text=True))


def test_every_page_keeps_to_its_own_origin_with_a_strict_content_security_policy(platform, clinic, resource):
    client = platform.portal()
    for path in ("/", "/register", "/directory", "/clinics", f"/clinics/{clinic['id']}", "/resources",
                 f"/resources/{resource}", "/nothing-here"):
        for language in ("en", "ar"):
            answer = client.get(f"{path}?lang={language}")
            assert answer.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert "default-src 'self'" in CONTENT_SECURITY_POLICY
            assert answer.headers["X-Frame-Options"] == "DENY"
            found = loads(answer.get_data(as_text=True))
            assert found.urls and all(url.startswith("/") and not url.startswith("//") for url in found.urls), (
                path, found.urls)
            assert found.inline == [], (path, found.inline)


def test_the_page_language_follows_the_switch_then_the_remembered_choice_then_the_browser(platform):
    client = platform.portal()
    assert 'lang="pt" dir="ltr"' in client.get("/", headers={"Accept-Language": "pt-BR,pt;q=0.9"}).get_data(
        as_text=True)
    switched = client.get("/?lang=ar", headers={"Accept-Language": "pt-BR"})
    assert 'lang="ar" dir="rtl"' in switched.get_data(as_text=True)
    assert 'lang="ar" dir="rtl"' in client.get("/clinics", headers={"Accept-Language": "pt-BR"}).get_data(
        as_text=True)
    assert "Accept-Language" in switched.headers["Vary"] and "Cookie" in switched.headers["Vary"]


def test_a_service_that_is_down_gives_a_friendly_503_page(platform):
    from services.portal.app import create_app

    client = create_app(portal_config({}), platform.settings).test_client()  # every API unreachable
    for path in ("/directory", "/clinics", "/resources", "/register"):
        answer = client.get(path + "?lang=fr")
        page = answer.get_data(as_text=True)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "10"
        assert "Cette partie de Let’s Connect n’est pas disponible pour le moment" in text(page)
        assert "Traceback" not in page
    assert client.get("/").status_code == 200  # pages that need no service still work
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["registry"] == "unreachable"
