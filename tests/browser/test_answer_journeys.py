"""The links in our emails, followed in a real browser without signing in: a proposal accepted by both
people (then the introduction email), the last seat of a clinic and its waiting list, feedback after
a clinic, and the email preferences with the one-click unsubscribe's confirmation."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import requests

from tests.browser.conftest import links_in_mail, register_by_api, staff, submit

MATCH_TOPIC = "conflict-transformation"   # no other browser test's people learn or share it
CLINIC_TOPIC = "harassment-conflict"


def a_proposal_between(stack, learner: dict, sharer: dict, timeout: float = 180) -> dict:
    """Connect-making rounds (working group) until the matcher, which learns about new people from the
    registry's events, has proposed something to the learner."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        round_ = staff(stack, "POST", "matcher", "/rounds", json={})
        while staff(stack, "GET", "matcher", f"/rounds/{round_['id']}")["status"] in ("requested", "running", "queued"):
            time.sleep(1)
        proposed = staff(stack, "GET", "matcher", "/matches", params={"participant": learner["id"]})["items"]
        if proposed:
            return proposed[0]
        time.sleep(2)
    raise AssertionError("the matcher proposed nothing to the learner")


def test_a_learner_and_a_sharer_accept_their_proposal_from_the_emails(visit, stack):
    group = f"Shared group {uuid.uuid4().hex[:4]}"
    learner = register_by_api(stack, "Learner", MATCH_TOPIC, "learn", languages=("fr", "en"), region="ssa",
                              timezone_name="Africa/Dakar")
    sharer = register_by_api(stack, "Sharer", MATCH_TOPIC, "share", languages=("fr",), region="ssa",
                             timezone_name="Africa/Abidjan", group=group)
    match = a_proposal_between(stack, learner, sharer)
    assert {p["id"] for p in match["participants"]} == {learner["id"], sharer["id"]}
    for person, answer in ((learner, "Accept"), (sharer, "Accepter")):
        link = links_in_mail(stack.maildir, person["email"], f"/matches/{match['id']}", scope="match.respond")[0]
        tab = visit(locale="fr-FR" if person is sharer else "en-GB")
        page = tab.page
        tab.go(link)
        assert page.locator("#match-status").is_visible()
        assert page.locator(".reasons-list li").count() >= 2   # the reasons, in words
        submit(page, page.get_by_role("button", name=answer, exact=True))
        assert page.locator("#notice").is_visible()
        assert tab.foreign_loads() == []
    # the second accept confirmed it: the status reads so, and the introduction email arrives
    assert page.locator("#match-status").inner_text() == "Confirmée : vous êtes en contact"
    introduction = links_in_mail(stack.maildir, learner["email"], f"/matches/{match['id']}", scope="match.outcome")[0]
    tab = visit()
    page = tab.page
    tab.go(introduction + "&lang=en")
    assert page.get_by_role("heading", level=2, name="Your introduction").is_visible()
    page.fill("#summary", "We met twice; I learned how to run a mediation circle.")
    submit(page, page.get_by_role("button", name="Send the summary"))
    assert page.locator("#notice").inner_text() == "Thank you: your summary is saved."
    assert staff(stack, "GET", "matcher", f"/matches/{match['id']}")["summary"].startswith("We met twice")


def a_clinic_body(seats: int = 3) -> dict:
    start = (datetime.now(timezone.utc) + timedelta(days=10)).replace(hour=14, minute=0, second=0, microsecond=0)
    return {"kind": "monthly", "title": f"Handling conflict {uuid.uuid4().hex[:4]}", "description": "Practice and cases.",
            "topics": [CLINIC_TOPIC], "slots": [{"start": start.isoformat(), "minutes": 60}],
            "language": "en", "interpretation": ["ar", "es"], "seats": seats}


def a_clinic(stack, seats: int) -> dict:
    return staff(stack, "POST", "scheduler", "/clinics", json=a_clinic_body(seats))


def seats_in_the_listing(tab, clinic: dict, language: str, expected: str, timeout: float = 30) -> str:
    """The clinic's seats as the /clinics listing shows them, reloaded until they read `expected`
    (the portal may show a listing up to LC_PORTAL_LISTING_CACHE_SECONDS old)."""
    deadline = time.monotonic() + timeout
    while True:
        tab.go(f"/clinics?lang={language}")
        shown = tab.page.locator("li.card.clinic", has_text=clinic["title"]).locator(".seats").inner_text()
        if shown == expected or time.monotonic() > deadline:
            return shown
        time.sleep(1)


def test_the_last_seat_then_the_waiting_list_then_a_cancellation_moves_the_second_person_up(visit, stack, reports):
    clinic = a_clinic(stack, seats=1)
    first = register_by_api(stack, "Seat", CLINIC_TOPIC, "learn")
    second = register_by_api(stack, "Wait", CLINIC_TOPIC, "learn")
    visitor = visit()
    assert seats_in_the_listing(visitor, clinic, "en", "1 seat left") == "1 seat left"
    tabs = {}
    for person in (first, second):
        link = links_in_mail(stack.maildir, person["email"], f"/clinics/{clinic['id']}", scope="clinic.register")[0]
        tab = tabs[person["id"]] = visit()
        tab.go(link + "&lang=en")
        tab.page.select_option("#interpretation", "es")
        submit(tab.page, tab.page.get_by_role("button", name="Book my seat"))
    first_page, second_page = tabs[first["id"]].page, tabs[second["id"]].page
    assert first_page.locator("#my-seat .status").inner_text() == "Your seat is confirmed."
    assert "Spanish" in first_page.locator("#my-seat").inner_text()
    assert second_page.locator("#my-seat .status").inner_text() == "You are number 1 on the waiting list."
    full = "Full: new bookings join the waiting list"
    assert seats_in_the_listing(visitor, clinic, "en", full) == full
    full_ar = "مكتمل: الحجوزات الجديدة تنضم إلى قائمة الانتظار"
    assert seats_in_the_listing(visitor, clinic, "ar", full_ar) == full_ar
    visitor.page.locator("li.card.clinic", has_text=clinic["title"]).screenshot(path=str(reports / "arabic-clinic-full.png"))
    submit(first_page, first_page.get_by_role("button", name="Cancel my seat"))
    assert first_page.locator("#notice").inner_text().startswith("Your registration is cancelled.")
    assert first_page.get_by_role("button", name="Book my seat").is_visible()
    second_page.reload(wait_until="load")
    assert second_page.locator("#my-seat .status").inner_text() == "Your seat is confirmed."
    # and the promotion email sends the second person to the same page
    assert links_in_mail(stack.maildir, second["email"], f"/clinics/{clinic['id']}", scope="clinic.register")


def test_feedback_through_the_emailed_link(visit, stack):
    clinic = a_clinic(stack, seats=5)
    person = register_by_api(stack, "Feedback", CLINIC_TOPIC, "learn")
    slot = clinic["slots"][0]["id"]
    answer = requests.post(f"{stack.url('scheduler')}/clinics/{clinic['id']}/registrations", timeout=30,
                           headers={"Authorization": f"Bearer {person['token']}"},
                           json={"participant": person["id"], "slot": slot})
    assert answer.status_code == 201, answer.text
    staff(stack, "POST", "scheduler", f"/clinics/{clinic['id']}/complete", json={"attendees": [person["id"]]})
    link = links_in_mail(stack.maildir, person["email"], f"/clinics/{clinic['id']}/feedback", scope="clinic.feedback")[0]
    tab = visit()
    page = tab.page
    tab.go(link + "&lang=en")
    submit(page, page.get_by_role("button", name="Send my feedback"))  # nothing chosen: asked again
    assert page.locator("#rating-error").is_visible() and page.locator("#useful-error").is_visible()
    page.check("#rating-4")
    page.check("#useful-yes")
    page.fill("#what_was_useful", "The role play.")
    submit(page, page.get_by_role("button", name="Send my feedback"))
    assert page.get_by_role("heading", level=2, name="Thank you for your feedback").is_visible()
    given = staff(stack, "GET", "scheduler", f"/clinics/{clinic['id']}/feedback")
    assert [item.get("what_was_useful") for item in given["items"]] == ["The role play."]


def test_preferences_from_the_mail_footer_and_the_unsubscribe_confirmation(visit, stack):
    person = register_by_api(stack, "Prefs", CLINIC_TOPIC, "learn")
    link = links_in_mail(stack.maildir, person["email"], "/preferences?token=", scope="preferences")[0]
    tab = visit()
    page = tab.page
    tab.go(link.split("&unsubscribe=")[0] + "&lang=en&unsubscribe=reminders")
    assert page.get_by_role("heading", level=2).inner_text() == "Stop this kind of email: Reminders before a clinic?"
    submit(page, page.get_by_role("button", name="Yes, stop these emails"))
    assert page.locator("#notice").inner_text() == "Done: you no longer receive this kind of email: Reminders before a clinic."
    assert not page.is_checked("#receive-reminders")
    page.check("#resources-immediate")
    page.uncheck("#receive-invitations")
    submit(page, page.get_by_role("button", name="Save my choices"))
    saved = requests.get(f"{stack.url('notifier')}/preferences/{person['id']}",
                         headers={"Authorization": f"Bearer {person['token']}"}, timeout=30).json()
    assert set(saved["skip"]) == {"reminders", "invitations"} and saved["resources"] == "immediate"
