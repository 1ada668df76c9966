"""Registering through the portal: the registry decides, the portal shows it in the page's language."""
from __future__ import annotations

import uuid

from tests.integration.portal.conftest import ServedApi, csrf_token, portal_config, text


def person(**changes) -> dict:
    tag = uuid.uuid4().hex[:8]
    form = {"username": f"Amina {tag}", "name": "Amina", "email": f"amina.{tag}@example.org",
            "languages": ["fr", "ar"], "timezone": "Africa/Algiers", "region": "mena",
            "group_name": "Wikimedia Algeria", "group_type": "user_group", "role": "core_team",
            "purpose": "organising", "activities": ["training", "events"],
            "learn": ["budget-development", "fundraising"], "share": ["newcomer-training"],
            "learn_note_fundraising": "Local sponsors", "consent_public_profile": "on",
            "consent_share_contact": "on"}
    form.update(changes)
    return form


def submit(client, form: dict, lang: str = "en"):
    page = client.get(f"/register?lang={lang}")
    assert page.status_code == 200
    return client.post("/register", data={**form, "csrf_token": csrf_token(page.get_data(as_text=True))})


def in_directory(platform, username: str) -> bool:
    items = platform.staff("GET", "registry", "/directory", params={"limit": 200}).json()["items"]
    return any(item["username"] == username for item in items)


def test_a_registration_reaches_the_registry_and_the_person_is_told_what_happens_next(platform):
    client = platform.portal()
    form = person()
    answer = submit(client, form)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/register/welcome")
    welcome = client.get("/register/welcome")
    assert "Welcome to Let's Connect, Amina!" in text(welcome.get_data(as_text=True))
    assert "What happens next" in text(welcome.get_data(as_text=True))
    assert in_directory(platform, form["username"])
    entry = next(item for item in platform.staff("GET", "registry", "/directory", params={"limit": 200}).json()["items"]
                 if item["username"] == form["username"])
    assert entry["languages"] == ["fr", "ar"] and entry["group"] == {"name": "Wikimedia Algeria", "type": "user_group"}
    assert {(i["topic"], i["direction"], i["note"]) for i in entry["interests"]} == {
        ("budget-development", "learn", None), ("fundraising", "learn", "Local sponsors"),
        ("newcomer-training", "share", None)}
    assert client.get("/register/welcome").status_code == 302  # shown once; a reload goes back to the form


def test_a_refusal_shows_every_unmet_criterion_and_where_to_learn_instead_in_the_pages_language(platform):
    client = platform.portal()
    form = person(group_name="", group_type="", role="none", purpose="own_editing")
    answer = submit(client, form, lang="fr")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422
    words = text(page)
    assert "Nous ne pouvons pas encore vous inscrire à Let’s Connect" in words
    assert "Vous ne faites pas partie d’un groupe organisé." in words
    assert "Vous n’avez pas de rôle dans votre groupe." in words
    assert "Vous voulez apprendre seulement pour vos propres contributions." in words
    assert words.count("En savoir plus") == 3
    assert 'href="https://meta.wikimedia.org/wiki/Training_modules"' in page
    assert f'value="{form["username"]}"' in page and f'value="{form["email"]}"' in page  # nothing typed is lost
    assert not in_directory(platform, form["username"])


def test_a_field_error_sits_next_to_its_field_in_arabic_and_everything_typed_is_kept(platform):
    client = platform.portal()
    form = person(email="amina-at-example", timezone="Mars/Olympus_Mons", region="")
    answer = submit(client, form, lang="ar")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and 'dir="rtl"' in page
    email_field = page[page.index('<label for="email">'):page.index('id="email"')]
    assert "أدخل عنوان بريد إلكتروني مثل name@example.org." in email_field
    assert 'id="email-error"' in email_field
    assert 'aria-describedby="email-hint email-error" aria-invalid="true"' in page
    assert "اختر منطقة زمنية من القائمة" in page and "يرجى اختيار أحد الخيارات." in page
    assert 'value="amina-at-example"' in page and 'value="Mars/Olympus_Mons"' in page
    assert 'value="budget-development" checked' in page and ">Local sponsors</textarea>" in page
    assert '<option value="fr" selected>' in page and '<option value="ar" selected>' in page
    assert not in_directory(platform, form["username"])


def test_a_taken_username_is_named_next_to_the_username(platform):
    client = platform.portal()
    form = person()
    assert submit(client, form).status_code == 303
    again = submit(platform.portal(), person(username=form["username"]))
    page = again.get_data(as_text=True)
    assert again.status_code == 422
    username_field = page[page.index('<label for="username">'):page.index('id="username"')]
    assert "This username is already registered." in username_field


def test_a_post_without_the_csrf_token_is_refused_and_keeps_what_was_typed(platform):
    client = platform.portal()
    form = person()
    answer = client.post("/register", data=form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "This form had expired, so nothing was sent." in text(page)
    assert f'value="{form["username"]}"' in page
    assert not in_directory(platform, form["username"])


def test_when_the_registry_is_down_the_form_comes_back_with_everything_typed_and_nothing_saved(platform):
    from services.portal.app import create_app
    import importlib

    registry = ServedApi(importlib.import_module("services.registry.app").create_app(platform.settings))
    client = create_app(portal_config({"registry": registry.url}), platform.settings).test_client()
    token = csrf_token(client.get("/register").get_data(as_text=True))  # the topics are read while it is up
    registry.stop()
    form = person()
    answer = client.post("/register", data={**form, "csrf_token": token})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 503
    assert "The registry is not answering, so nothing was saved." in text(page)
    assert f'value="{form["username"]}"' in page and 'value="fundraising" checked' in page
    assert "Traceback" not in page
