"""Registering in a real browser: the form, the registry's answer on the page, the welcome email."""
from __future__ import annotations

from tests.browser.conftest import TOPICS, mail_to, someone, submit


def fill_identity(page, person: dict) -> None:
    page.fill("#username", person["username"])
    page.fill("#name", person["name"])
    page.fill("#email", person["email"])


def test_register_through_the_form_and_receive_the_welcome_email(visit, stack, seeded):
    tab = visit(timezone_id="America/Bogota", locale="es-CO")
    page = tab.page
    tab.go("/register")
    assert page.locator("html").get_attribute("lang") == "es"  # from the browser's Accept-Language
    assert page.input_value("#timezone") == "America/Bogota"  # the browser's zone, filled in by portal.js
    person = someone("Lucia")
    fill_identity(page, person)
    page.select_option("#languages-1", "es")
    page.select_option("#languages-2", "pt")
    page.select_option("#region", "lac")
    page.fill("#group_name", "Wikimedia Colombia")
    page.select_option("#group_type", "chapter")
    page.select_option("#role", "board")
    page.check("#purpose-organising")
    page.check("#activity-training")
    page.check(f"#learn-{TOPICS[0]}")
    page.check("#share-newcomer-training")
    page.locator("li.topic-choice", has=page.locator("#share-newcomer-training")).locator("summary").click()
    page.fill("#share_note_newcomer-training", "Nuestro programa de mentorías")
    page.check("#consent_public_profile")
    page.check("#consent_share_contact")
    submit(page, page.get_by_role("button", name="Registrarse"))
    page.wait_for_url("**/register/welcome")
    assert page.get_by_role("heading", level=1).inner_text() == f"¡Te damos la bienvenida a Let’s Connect, {person['name']}!"
    assert page.get_by_text("Qué pasa ahora").is_visible()
    welcome = mail_to(stack.maildir, person["email"], template="welcome")
    assert person["name"] in str(welcome["Subject"])
    assert "bienvenida" in str(welcome["Subject"]).lower()  # in Spanish, her first language
    directory = tab.go(f"/directory?topic=newcomer-training&direction=share&region=lac")
    assert directory.status == 200 and page.get_by_text(person["username"]).is_visible()
    assert tab.foreign_loads() == []


def test_a_refusal_shows_every_reason_and_where_to_learn_instead(visit, seeded):
    tab = visit()
    page = tab.page
    tab.go("/register?lang=en")
    fill_identity(page, someone("Refused"))
    page.select_option("#region", "ssa")
    page.fill("#timezone", "Africa/Lagos")
    page.select_option("#role", "none")
    page.check("#purpose-own_editing")
    page.check(f"#learn-{TOPICS[1]}")
    submit(page, page.get_by_role("button", name="Register"))
    refusal = page.locator("#refusal")
    assert refusal.get_by_role("heading", level=2).inner_text() == "We cannot register you for Let's Connect yet"
    assert refusal.locator("ul.reasons > li").count() == 3
    assert refusal.get_by_text("You are not part of an organised group.").is_visible()
    assert refusal.get_by_text("You have no role in your group.").is_visible()
    assert refusal.get_by_text("You want to learn only for your own editing.").is_visible()
    links = refusal.locator("ul.alternatives a")
    assert links.count() == 3
    assert links.first.get_attribute("href").startswith("https://meta.wikimedia.org/")
    assert page.is_checked("#purpose-own_editing") and page.input_value("#role") == "none"


def test_a_field_error_sits_next_to_the_field_and_keeps_what_was_typed(visit, seeded):
    tab = visit(timezone_id="Europe/Paris", locale="fr-FR")
    page = tab.page
    tab.go("/register")
    person = someone("Typo")
    fill_identity(page, {**person, "email": "typo-at-example.org"})
    page.select_option("#languages-1", "fr")
    page.select_option("#region", "nwe")
    page.fill("#group_name", "Wikimédia France")
    page.select_option("#group_type", "chapter")
    page.select_option("#role", "staff")
    page.check("#purpose-training_others")
    page.check(f"#learn-{TOPICS[2]}")
    page.check("#consent_recording")
    submit(page, page.get_by_role("button", name="S’inscrire"))
    email = page.locator("#email")
    assert email.get_attribute("aria-invalid") == "true"
    error = page.locator("#email-error")
    assert error.inner_text() == "Saisissez une adresse électronique comme nom@example.org."
    assert "email-error" in email.get_attribute("aria-describedby")
    # the message is in the email field's own block, right above the input
    assert page.locator(".field", has=page.locator("#email")).locator("#email-error").count() == 1
    assert page.input_value("#email") == "typo-at-example.org"
    assert page.input_value("#username") == person["username"] and page.input_value("#group_name") == "Wikimédia France"
    assert page.input_value("#timezone") == "Europe/Paris" and page.input_value("#role") == "staff"
    assert page.is_checked(f"#learn-{TOPICS[2]}") and page.is_checked("#consent_recording")
    assert page.locator("#error-summary a[href='#email']").inner_text() == "Adresse électronique"
    page.fill("#email", person["email"])  # corrected, the same form goes through
    submit(page, page.get_by_role("button", name="S’inscrire"))
    page.wait_for_url("**/register/welcome")


def test_the_registration_form_works_with_the_keyboard_alone(visit, stack, seeded):
    """Tab from the top of the page through every field of the form, answer with keys only, submit."""
    tab = visit(timezone_id="Asia/Jakarta", locale="en-GB")
    page = tab.page
    tab.go("/register")
    person = someone("Keys")
    typed = {"username": person["username"], "name": person["name"], "email": person["email"],
             "group_name": "Wikimedia Indonesia"}
    keys_for_select = {"region": "East", "group_type": "Chapter", "role": "Volunteer"}
    to_tick = {f"learn-{TOPICS[1]}", "purpose-organising", "consent_share_contact", "activity-outreach"}
    visited = []
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    for _ in range(400):
        page.keyboard.press("Tab")
        focused = page.evaluate("(() => { const e = document.activeElement;"
                                " return {id: e.id, tag: e.tagName, type: e.type || ''}; })()")
        visited.append(focused["id"])
        if focused["id"] in typed:
            page.keyboard.type(typed[focused["id"]])
        elif focused["id"] in keys_for_select:
            page.keyboard.type(keys_for_select[focused["id"]])
        elif focused["id"] in to_tick:
            page.keyboard.press("Space")
        elif focused["tag"] == "BUTTON" and focused["type"] == "submit":
            page.keyboard.press("Enter")
            break
    else:
        raise AssertionError("the submit button was never reached with Tab")
    page.wait_for_url("**/register/welcome")
    assert page.get_by_role("heading", level=1).inner_text() == f"Welcome to Let's Connect, {person['name']}!"
    for field in ("username", "name", "email", "languages-1", "timezone", "region", "group_name", "group_type",
                  "role", f"learn-{TOPICS[1]}", "consent_public_profile", "consent_recording"):
        assert field in visited, f"{field} is not reachable with Tab"
    assert mail_to(stack.maildir, person["email"], template="welcome")["Subject"] == f"Welcome to Let's Connect, {person['name']}"
