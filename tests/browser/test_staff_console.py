"""The coordinators' console in Chromium against the whole stack (issue 15): a coordinator
bootstrapped with `letsconnect staff add` signs in through the emailed link, adds a working-group
member and an ambassador; the member signs in, previews and runs a round, schedules a clinic from
the suggested times, marks attendance, reads the clinic's feedback comments and a connection's
outcome summary; the ambassador gets the 403 page on running a round; the audit log shows each
action with the right person; axe finds no serious or critical violation on any console page, in
English and again in Arabic (right to left)."""
from __future__ import annotations

import re
import subprocess
import uuid

import pytest
import requests

from tests.browser.conftest import mail_to, submit
from tests.browser.test_accessibility_and_origins import serious_violations
from tests.stack import STAFF, _letsconnect
from tests.support import eventually

TOPIC = "budget-development"
SIGN_IN_LINK = re.compile(r"https?://\S+/staff/sign-in/complete\?token=[A-Za-z0-9._\-]+")


def api(stack, method, service, path, token=STAFF, expect=(200, 201, 202, 204), **kwargs):
    answer = requests.request(method, stack.url(service) + path, headers={"Authorization": f"Bearer {token}"},
                              timeout=30, **kwargs)
    assert answer.status_code in expect, (method, path, answer.status_code, answer.text)
    return answer.json() if answer.content else None


def participant(stack, direction: str, languages=("en",)) -> dict:
    tag = uuid.uuid4().hex[:8]
    created = requests.post(stack.url("registry") + "/participants", timeout=30, json={
        "username": f"Console {tag}", "name": f"Console {direction} {tag[:4]}", "email": f"console.{tag}@example.org",
        "languages": list(languages), "timezone": "Africa/Nairobi", "region": "ssa",
        "group": {"name": f"Console group {tag}", "type": "user_group"}, "role": "volunteer", "purpose": "organising",
        "interests": [{"topic": TOPIC, "direction": direction}],
        "consent": {"public_profile": True, "share_contact": True, "recording": True}})
    assert created.status_code == 201, created.text
    body = created.json()
    return {"id": body["id"], "token": body["token"]}


def sign_in(tab, stack, email: str) -> None:
    """The staff sign-in page, the emailed link, the button: the console's dashboard."""
    tab.go("/staff/sign-in")
    tab.page.fill("#email", email)
    submit(tab.page, tab.page.locator("main form button[type=submit]"))
    message = mail_to(stack.maildir, email)
    body = message.get_body(preferencelist=("plain", "html")).get_content()
    link = SIGN_IN_LINK.search(body).group(0)
    assert link.startswith(stack.portal + "/staff/sign-in/complete?token=")
    tab.page.goto(link)
    submit(tab.page, tab.page.locator("main form button[type=submit]"))
    assert tab.page.url.rstrip("/").endswith("/staff")
    cookie = next(c for c in tab.context.cookies() if c["name"] == "lc_staff")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/staff"


def add_staff(tab, email: str, name: str, role: str) -> None:
    tab.go("/staff/accounts")
    form = tab.page.locator("form.add-staff")
    form.locator("#new-email").fill(email)
    form.locator("#new-name").fill(name)
    form.locator(f"#new-role-{role}").check()
    submit(tab.page, form.locator("button[type=submit]"))
    assert tab.page.locator(f"tr[data-staff='{email}']").count() == 1


def wait_for_round(tab, status: tuple[str, ...]) -> str:
    def settled():
        tab.page.reload()
        found = tab.page.locator(".round-status").get_attribute("data-status")
        return found if found in status else None
    return eventually(settled, timeout=90, interval=1.0)


@pytest.mark.timeout(900)  # one long journey with 20 axe scans, on a shared machine
def test_the_console_from_bootstrap_to_audit(visit, stack, reports):
    tag = uuid.uuid4().hex[:6]
    lead_email, member_email, amb_email = (f"{who}.{tag}@example.org" for who in ("lead", "member", "amb"))
    bootstrap = subprocess.run([_letsconnect(), "staff", "add", lead_email, "--role", "coordinator", "--name",
                                f"Cora {tag}"], env=stack.env, capture_output=True, text=True, timeout=60)
    assert bootstrap.returncode == 0, bootstrap.stderr

    # a pair only each other can be connected with (Swahili only), and someone for the clinic
    sharer, learner = participant(stack, "share", ("sw",)), participant(stack, "learn", ("sw",))
    attendee = participant(stack, "learn")
    pages: dict[str, list] = {}

    lead = visit()
    sign_in(lead, stack, lead_email)
    add_staff(lead, member_email, f"Wafa {tag}", "working_group")
    add_staff(lead, amb_email, f"Amani {tag}", "ambassador")

    member = visit()
    sign_in(member, stack, member_email)
    pages["/staff/"] = serious_violations(member.page)

    # a round: preview (nothing written), then run it; a preview that went stale (someone's
    # interests changed meanwhile: the matcher refuses it) is previewed again, as a person would
    for _attempt in range(3):
        member.go("/staff/rounds")
        pages["/staff/rounds"] = serious_violations(member.page)
        submit(member.page, member.page.get_by_role("button", name="Preview a round"))
        assert wait_for_round(member, ("preview", "failed")) == "preview"
        pages["/staff/rounds/<preview>"] = serious_violations(member.page)
        preview_url = member.page.url
        assert member.page.locator("table.preview, p.empty-preview").count() == 1  # the pair may be connected already
        submit(member.page, member.page.get_by_role("button", name="Run this round"))
        member.page.goto(preview_url)
        if wait_for_round(member, ("completed", "failed", "stale")) == "completed":
            break
    else:
        raise AssertionError("three previews went stale before they could run")

    # the ambassador may not run a round: the 403 page
    ambassador = visit()
    sign_in(ambassador, stack, amb_email)
    ambassador.go("/staff/rounds")
    with ambassador.page.expect_response(lambda r: r.url.endswith("/staff/rounds")) as refused:
        submit(ambassador.page, ambassador.page.get_by_role("button", name="Run a round now"))
    assert refused.value.status == 403
    assert ambassador.page.locator("h1").inner_text() == "Not for your role"
    pages["/staff/forbidden"] = serious_violations(ambassador.page)

    # a clinic from the suggested times
    member.go(f"/staff/clinics?topic={TOPIC}")
    pages["/staff/clinics"] = serious_violations(member.page)
    form = member.page.locator("form.new-clinic")
    assert form.locator("input[name=slot]").count() >= 1
    form.locator("#title").fill(f"Budgets in the console {tag}")
    submit(member.page, form.locator("button[type=submit]"))
    clinic_id = member.page.url.rstrip("/").rsplit("/", 1)[1]
    clinic = api(stack, "GET", "scheduler", f"/clinics/{clinic_id}")
    api(stack, "POST", "scheduler", f"/clinics/{clinic_id}/registrations", token=attendee["token"],
        json={"participant": attendee["id"], "slot": clinic["slots"][0]["id"]})

    # attendance, then the learner's feedback, read in the console
    member.page.reload()
    pages["/staff/clinics/<id>"] = serious_violations(member.page)
    member.page.locator(f"input[name=attended][value='{attendee['id']}']").check()
    member.page.fill("#recording_url", "https://commons.example.org/console-clinic.webm")
    submit(member.page, member.page.get_by_role("button", name="Save the attendance"))
    assert member.page.get_by_text("Attendance saved.").is_visible()
    # the attendee consented to recording: nothing waits for staff
    assert member.page.locator("[data-recording=publishable]").count() == 1
    api(stack, "POST", "scheduler", f"/clinics/{clinic_id}/feedback", token=attendee["token"],
        json={"participant": attendee["id"], "useful": True, "rating": 5, "comment": f"Very practical {tag}"})
    member.page.reload()
    assert member.page.get_by_text(f"Very practical {tag}").is_visible()

    # a connection's outcome summary: the Swahili pair was connected (by the round, or at once)
    match = eventually(lambda: api(stack, "GET", "matcher", f"/matches?participant={learner['id']}")["items"],
                       timeout=90)[0]
    assert {p["id"] for p in match["participants"]} == {learner["id"], sharer["id"]}
    for person in (learner, sharer):
        api(stack, "POST", "matcher", f"/matches/{match['id']}/respond", token=person["token"],
            json={"participant": person["id"], "response": "accept"})
    summary = f"We rebuilt our budget template together {tag}"
    api(stack, "POST", "matcher", f"/matches/{match['id']}/outcome", token=learner["token"],
        json={"participant": learner["id"], "summary": summary})
    member.go("/staff/connections?with_summary=1")
    assert member.page.get_by_text(summary).is_visible()
    member.go("/staff/connections")
    pages["/staff/connections"] = serious_violations(member.page)
    member.go("/staff/feedback")
    pages["/staff/feedback"] = serious_violations(member.page)
    api(stack, "POST", "scheduler", "/spaces", json={  # so the spaces page has its edit and remove forms
        "kind": "community_of_practice", "title": f"Console circle {tag}", "topics": [TOPIC], "languages": ["ar", "en"],
        "link": "https://meet.example.org/console-circle"})
    for path in ("/staff/participants?q=Console", f"/staff/participants/{learner['id']}", "/staff/spaces",
                 "/staff/resources?q=plan", "/staff/translations"):
        member.go(path)
        pages[path] = serious_violations(member.page)

    # the audit log, read by the coordinator: every action with the right person
    lead.go("/staff/audit")
    pages["/staff/audit"] = serious_violations(lead.page)
    rows = {(row.get_attribute("data-action"), row.locator("td.who").inner_text().split(" (")[0])
            for row in lead.page.locator("tr.audit-record").all()}
    assert {("staff.add", "machine:coordinator"), ("staff.add", f"Cora {tag}"), ("round.preview", f"Wafa {tag}"),
            ("round.commit", f"Wafa {tag}"), ("clinic.create", f"Wafa {tag}"),
            ("clinic.attendance", f"Wafa {tag}")} <= rows, rows
    lead.go("/staff/accounts")
    pages["/staff/accounts"] = serious_violations(lead.page)
    lead.go("/staff/?lang=ar")
    pages["/staff/?lang=ar"] = serious_violations(lead.page)
    assert lead.page.locator("html").get_attribute("dir") == "rtl"
    # every console page again in Arabic (right to left; the language holds through the cookie)
    preview_path = "/staff" + preview_url.split("/staff", 1)[1]
    for path in ("/staff/rounds", preview_path,
                 f"/staff/clinics?topic={TOPIC}", f"/staff/clinics/{clinic_id}", "/staff/connections?with_summary=1",
                 "/staff/feedback", "/staff/participants?q=Console", f"/staff/participants/{learner['id']}",
                 "/staff/spaces", "/staff/resources?q=plan", "/staff/translations", "/staff/audit",
                 "/staff/accounts"):
        lead.go(path)
        assert lead.page.locator("html").get_attribute("lang") == "ar", path
        pages[f"ar {path}"] = serious_violations(lead.page)
    ambassador.go("/staff/rounds?lang=ar")
    with ambassador.page.expect_response(lambda r: r.url.endswith("/staff/rounds")) as refused:
        submit(ambassador.page, ambassador.page.locator("button[name=mode][value=run]"))
    assert refused.value.status == 403 and ambassador.page.locator("html").get_attribute("dir") == "rtl"
    pages["ar /staff/forbidden"] = serious_violations(ambassador.page)

    signed_out = visit()
    signed_out.go("/staff/sign-in")
    pages["/staff/sign-in"] = serious_violations(signed_out.page)
    signed_out.go("/staff/sign-in/complete?token=nothing")
    pages["/staff/sign-in/complete"] = serious_violations(signed_out.page)
    for path in ("/staff/sign-in?lang=ar", "/staff/sign-in/complete?token=nothing&lang=ar"):
        signed_out.go(path)
        assert signed_out.page.locator("html").get_attribute("dir") == "rtl"
        pages[f"ar {path}"] = serious_violations(signed_out.page)
    (reports / "axe-staff-console.json").write_text(str(pages))
    assert {path: found for path, found in pages.items() if found} == {}
    assert member.foreign_loads() == [] and lead.foreign_loads() == []
