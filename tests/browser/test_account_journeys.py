"""A person's own pages in a real browser: register, sign in with the emailed link, change the
profile, sign out everywhere, erase their data (and then signing in no longer works)."""
from __future__ import annotations

import requests

from tests.browser.conftest import TOPICS, links_in_mail, mail_to, register_by_api, someone, submit
from tests.browser.test_registration_journeys import fill_identity


def sign_in_by_email(tab, stack, email: str) -> None:
    page = tab.page
    before = set(links_in_mail(stack.maildir, email, "/sign-in/complete?token=", timeout=0, at_least=0))
    tab.go("/sign-in")
    page.fill("#email", email)
    submit(page, page.locator("form.sign-in button[type=submit]"))
    assert page.url.endswith("/sign-in/sent")
    link = next(link for link in links_in_mail(stack.maildir, email, "/sign-in/complete?token=", at_least=len(before) + 1)
                if link not in before)
    tab.go(link)
    submit(page, page.locator("main form button[type=submit]"))
    page.wait_for_url("**/me")


def test_register_then_sign_in_with_the_emailed_link_and_change_the_profile(visit, stack, seeded):
    tab = visit(timezone_id="Europe/Lisbon", locale="en-GB")
    page = tab.page
    tab.go("/register?lang=en")
    person = someone("Joana")
    fill_identity(page, person)
    page.select_option("#languages-1", "pt")
    page.select_option("#languages-2", "en")
    page.select_option("#region", "nwe")
    page.fill("#group_name", "Wikimedia Portugal")
    page.select_option("#group_type", "chapter")
    page.select_option("#role", "volunteer")
    page.check("#purpose-organising")
    page.check(f"#learn-{TOPICS[1]}")
    submit(page, page.locator("form.registration button[type=submit]"))
    page.wait_for_url("**/register/welcome")
    welcome = mail_to(stack.maildir, person["email"], template="welcome")
    assert "/sign-in" in welcome.get_body(preferencelist=("plain",)).get_content()
    # the sign-in page says the same for an address nobody registered
    tab.go("/sign-in")
    page.fill("#email", f"nobody.{person['email']}")
    submit(page, page.locator("form.sign-in button[type=submit]"))
    unknown_answer = page.locator("main").inner_text()
    sign_in_by_email(tab, stack, person["email"])
    assert page.get_by_role("heading", level=1).inner_text() == f"Hello, {person['name']}"
    assert page.locator("main").get_by_text(person["email"]).is_visible()
    tab.go("/sign-in/sent")
    assert page.locator("main").inner_text() == unknown_answer
    # the session cookie: HttpOnly and SameSite=Lax, and no page script can read it
    cookie = next(c for c in tab.context.cookies() if c["name"] == "lc_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "lc_session" not in page.evaluate("document.cookie")
    tab.go("/me/profile")
    assert page.input_value("#username") == person["username"] and page.input_value("#group_name") == "Wikimedia Portugal"
    assert page.is_checked(f"#learn-{TOPICS[1]}")
    page.fill("#name", "Joana Silva")
    page.select_option("#region", "lac")
    page.check("#share-newcomer-training")
    page.check("#consent_public_profile")
    submit(page, page.get_by_role("button", name="Save my profile"))
    page.wait_for_url("**/me")
    assert page.locator("#notice").inner_text() == "Your profile is saved."
    assert page.get_by_role("heading", level=1).inner_text() == "Hello, Joana Silva"
    tab.go("/directory?topic=newcomer-training&direction=share&region=lac")
    assert page.get_by_text(person["username"]).is_visible()  # the change reached the registry
    assert tab.foreign_loads() == []


def test_sign_out_everywhere_ends_the_other_browsers_session(visit, stack, browser):
    person = register_by_api(stack, "Everywhere", TOPICS[0], "learn")
    first, second = visit(), visit()
    sign_in_by_email(first, stack, person["email"])
    sign_in_by_email(second, stack, person["email"])
    submit(first.page, first.page.get_by_role("button", name="Sign me out everywhere"))
    assert "signed out everywhere else" in first.page.locator("#notice").inner_text()
    assert first.page.get_by_role("heading", level=1).inner_text().startswith("Hello")  # this browser stays in
    answer = second.go("/me")
    assert answer.status == 401
    assert second.page.get_by_role("heading", level=1).inner_text() == "This link has expired"
    assert not [c for c in second.context.cookies() if c["name"] == "lc_session"]


def test_erase_my_data_with_a_confirmation_then_signing_in_no_longer_works(visit, stack):
    person = register_by_api(stack, "Eraser", TOPICS[2], "learn")
    tab = visit()
    page = tab.page
    sign_in_by_email(tab, stack, person["email"])
    # a second link, asked for before the erasure and not used yet
    used = set(links_in_mail(stack.maildir, person["email"], "/sign-in/complete?token="))
    assert requests.post(stack.url("registry") + "/sign-in", json={"email": person["email"]}, timeout=30).status_code == 202
    unused = next(link for link in links_in_mail(stack.maildir, person["email"], "/sign-in/complete?token=", at_least=2)
                  if link not in used)
    page.get_by_role("link", name="Erase my data").click()
    page.wait_for_url("**/me/erase")
    submit(page, page.get_by_role("button", name="Erase my data now"))  # not confirmed: nothing happens
    assert page.locator("#confirm-error").is_visible()
    tab.go("/me")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Hello")
    tab.go("/me/erase")
    page.check("#confirm")
    submit(page, page.get_by_role("button", name="Erase my data now"))
    assert page.get_by_role("heading", level=1).inner_text() == "Your data is erased"
    assert tab.go("/me").url.endswith("/sign-in")
    tab.go(unused)  # the link still verifies by its signature, but its person is gone
    submit(page, page.locator("main form button[type=submit]"))
    assert page.get_by_role("heading", level=1).inner_text() == "This sign-in link does not work"
    assert tab.go("/me").url.endswith("/sign-in")
