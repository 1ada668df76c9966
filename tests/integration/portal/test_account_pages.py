"""Signing in through the portal against the real registry (and /me against the real matcher,
scheduler and notifier): the same answer for any address, a session cookie no script can read, every
form POST needing its CSRF token, and an email link working only on its own page."""
from __future__ import annotations

import uuid

from shared.mongo import database
from shared.tokens import issue_link_token
from tests.integration.portal.conftest import csrf_token, text


def registered(platform) -> dict:
    tag = uuid.uuid4().hex[:8]
    body = {"username": f"Sami {tag}", "name": "Sami", "email": f"sami.{tag}@example.org", "languages": ["fr", "en"],
            "timezone": "Africa/Tunis", "region": "mena", "group": {"name": "Wikimedia Tunisie", "type": "user_group"},
            "role": "volunteer", "purpose": "organising",
            "interests": [{"topic": "fundraising", "direction": "learn", "note": None}],
            "consent": {"public_profile": False, "share_contact": True, "recording": False}}
    answer = platform.staff("POST", "registry", "/participants", json=body)
    assert answer.status_code == 201, answer.text
    return {**body, "id": answer.json()["id"]}


def ask_for_a_link(client, email: str):
    page = client.get("/sign-in")  # no language chosen with the switch
    return client.post("/sign-in", data={"email": email, "csrf_token": csrf_token(page.get_data(as_text=True))})


def emailed_link_token(platform, participant_id: str) -> str:
    """What the notifier would put in the email: a signin link token for the pending request."""
    pending = database(platform.settings, "registry")["sign_in_requests"].find_one({"subject_id": participant_id})
    return issue_link_token(platform.settings, participant_id, "signin", pending["_id"])


def test_sign_in_by_email_opens_a_session_in_an_httponly_lax_cookie(platform):
    person = registered(platform)
    client = platform.portal()
    known = ask_for_a_link(client, person["email"])
    unknown = ask_for_a_link(client, f"nobody.{person['email']}")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/sign-in/sent"
    token = emailed_link_token(platform, person["id"])
    confirm = client.get(f"/sign-in/complete?token={token}")
    assert confirm.status_code == 200 and client.get_cookie("lc_session") is None  # opening the link changes nothing
    done = client.post("/sign-in/complete", data={"token": token,
                                                  "csrf_token": csrf_token(confirm.get_data(as_text=True))})
    assert done.status_code == 303 and done.headers["Location"] == "/me"
    cookie = next(h for h in done.headers.getlist("Set-Cookie") if h.startswith("lc_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    session_token = client.get_cookie("lc_session").value
    me = client.get("/me")
    page = me.get_data(as_text=True)
    assert me.status_code == 200 and "Sami" in text(page) and person["email"] in text(page)
    assert session_token not in page  # never in a page
    assert client.get_cookie("lc_lang").value == "fr"  # her first language from now on
    # a single-use link: the second time it opens nothing
    again = platform.portal()
    form = again.get(f"/sign-in/complete?token={token}")
    refused = again.post("/sign-in/complete", data={"token": token, "csrf_token": csrf_token(form.get_data(as_text=True))})
    assert refused.status_code == 400 and again.get_cookie("lc_session") is None


def test_the_session_cookie_is_secure_behind_https(platform):
    person = registered(platform)
    client = platform.portal()
    ask_for_a_link(client, person["email"])
    token = emailed_link_token(platform, person["id"])
    confirm = client.get(f"/sign-in/complete?token={token}", base_url="https://portal.example.org")
    done = client.post("/sign-in/complete", base_url="https://portal.example.org",
                       headers={"Referer": "https://portal.example.org/sign-in/complete"},
                       data={"token": token, "csrf_token": csrf_token(confirm.get_data(as_text=True))})
    assert done.status_code == 303
    cookie = next(h for h in done.headers.getlist("Set-Cookie") if h.startswith("lc_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_every_new_form_needs_its_csrf_token(platform):
    client = platform.portal()
    for path in ("/sign-in", "/sign-in/complete", "/sign-out", "/me/profile", "/me/erase", "/me/sign-out-everywhere",
                 "/matches/m1/respond", "/matches/m1/outcome", "/connections/c1/confirm", "/clinics/c1/book",
                 "/clinics/c1/cancel", "/clinics/c1/feedback", "/preferences"):
        assert client.post(path, data={"email": "a@example.org", "response": "accept"}).status_code == 400, path


def test_a_link_works_only_on_its_own_page(platform):
    person = registered(platform)
    client = platform.portal()
    respond = issue_link_token(platform.settings, person["id"], "match.respond", "match-1")
    for path in ("/preferences", "/matches/match-2", "/clinics/any/feedback", "/connections/match-1"):
        page = client.get(f"{path}?token={respond}&lang=en")
        assert page.status_code == 403, path
        assert "This link is for another page" in text(page.get_data(as_text=True))
    expired = client.get("/preferences?token=lc1.forged.token&lang=en")
    assert expired.status_code == 403 and "This link has expired" in text(expired.get_data(as_text=True))
    assert client.get("/me").headers["Location"] == "/sign-in"  # no session: sign in


def test_preferences_through_the_mail_link_reach_the_notifier(platform):
    person = registered(platform)
    client = platform.portal()
    token = issue_link_token(platform.settings, person["id"], "preferences", person["id"])
    page = client.get(f"/preferences?token={token}&unsubscribe=feedback&lang=en")
    assert page.status_code == 200
    assert "Stop this kind of email: Requests for feedback?" in text(page.get_data(as_text=True))
    saved = client.post("/preferences", data={"token": token, "stop": "feedback",
                                              "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert saved.status_code == 303 and token in saved.headers["Location"]
    assert platform.staff("GET", "notifier", f"/preferences/{person['id']}").json()["skip"] == ["feedback"]


def test_my_page_still_shows_the_profile_when_the_matcher_is_down(platform):
    from tests.integration.portal.conftest import nowhere, portal_config
    from services.portal.app import create_app

    person = registered(platform)
    urls = {name: api.url for name, api in platform.apis.items()}
    client = create_app(portal_config({**urls, "matcher": nowhere()}), platform.settings).test_client()
    ask_for_a_link(client, person["email"])
    token = emailed_link_token(platform, person["id"])
    confirm = client.get(f"/sign-in/complete?token={token}")
    client.post("/sign-in/complete", data={"token": token, "csrf_token": csrf_token(confirm.get_data(as_text=True))})
    me = client.get("/me?lang=en")
    words = text(me.get_data(as_text=True))
    assert me.status_code == 200 and "Hello, Sami" in words
    assert "This list is not available right now" in words and "You have no seat at a clinic yet." in words
