"""sign-in-requested -> a single-use sign-in link by mail, to a participant or a staff account
(addresses from the notifier's own read models; a message waits for an address not yet known)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notifier.app import create_app
from services.notifier.config import NotifierConfig
from services.notifier.worker import build_worker
from shared.tokens import verify_token
from tests.integration.notifier.helpers import Events, mail_to, new_id, participant, parts
from tests.support import STAFF_HEADERS, eventually, namespaced_settings, running

CONFIG = NotifierConfig(retry_base_seconds=0.05, scan_seconds=0.1, park_seconds=600)


@pytest.fixture(scope="module")
def stack(servers):
    settings = namespaced_settings(servers)
    events = Events(settings)
    worker = build_worker(settings, CONFIG)
    with running(worker):
        yield settings, events, create_app(settings, CONFIG).test_client(), worker
    events.close()


def request(events, audience, subject, minutes=30, language=None) -> dict:
    expires = (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    return events.publish("sign-in-requested", {"request_id": new_id("sr"), "audience": audience,
                                                "subject_id": subject, "expires_at": expires, "language": language},
                          source="registry")


def staff_account(events, staff_id, revision=1, status="active", email=None):
    events.publish("staff-account-changed", {
        "staff_id": staff_id, "revision": revision, "status": status, "roles": ["coordinator"],
        "email": email if status == "active" else None, "name": "Sam" if status == "active" else None,
        "languages": ["fr"] if status == "active" else []}, source="registry")


def sign_in_mail(servers, address):
    return eventually(lambda: [m for m in mail_to(servers.maildir, address)
                               if m["X-LetsConnect-Template"] == "sign_in"], message=f"no sign-in mail for {address}")


def the_link(message, path):
    [line] = [line for line in parts(message)["text"].splitlines() if path in line]
    return urlsplit(line[line.index("http"):])


def test_a_participant_gets_a_link_for_this_request_only_in_the_language_they_asked_in(servers, stack):
    settings, events, _, _ = stack
    pid = new_id()
    events.publish("participant-registered", participant(pid, languages=("ar",)))
    request_id = request(events, "participant", pid, language="pt")["data"]["request_id"]
    [message] = sign_in_mail(servers, f"{pid}@example.org")
    assert message["Content-Language"] == "pt" and message["List-Unsubscribe"] is None
    link = the_link(message, "/sign-in/complete?")
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{settings.portal_url}/sign-in/complete"
    token = verify_token(settings, parse_qs(link.query)["token"][0])
    assert (token.kind, token.subject, token.scope, token.resource) == ("link", pid, "signin", request_id)


def test_a_staff_sign_in_waits_for_the_account_and_a_removed_account_gets_nothing(servers, stack):
    settings, events, client, worker = stack
    staff_id, address = new_id("s"), f"{new_id('staff')}@example.org"
    request_id = request(events, "staff", staff_id)["data"]["request_id"]
    eventually(lambda: [e for e in client.get("/notifications?status=parked&limit=500", headers=STAFF_HEADERS)
                        .get_json()["items"] if e["template"] == "sign_in"])
    staff_account(events, staff_id, email=address)  # the account's address arrives after the request
    [message] = sign_in_mail(servers, address)
    assert message["Content-Language"] == "fr" and message["List-Unsubscribe"] is None
    link = the_link(message, "/staff/sign-in/complete?")
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{settings.portal_url}/staff/sign-in/complete"
    token = verify_token(settings, parse_qs(link.query)["token"][0])
    assert (token.subject, token.scope, token.resource) == (staff_id, "signin", request_id)

    staff_account(events, staff_id, revision=2, status="removed")
    # two topics, no order between them: the request comes after the removal is known
    eventually(lambda: "email" not in worker.notifier.store.staff_contact(staff_id))
    later = request(events, "staff", staff_id)
    eventually(lambda: worker.inbox.seen(later["id"]))
    assert [m["X-LetsConnect-Template"] for m in mail_to(servers.maildir, address)] == ["sign_in"]
    assert "email" not in worker.notifier.store.staff_contact(staff_id)
