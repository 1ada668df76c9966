"""Every link in every message lands on the portal (BRIEF.md's URL contract) with a link token
for exactly that action; the sign-in message and the staff contacts it needs."""
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notifier.domain.contacts import replaces, staff_contact_from_event
from services.notifier.domain.deliveries import decide, new_delivery, parked, planned_of
from services.notifier.domain.messages import Recipient, message_parts
from services.notifier.domain.parking import named_people
from services.notifier.domain.planning import Planned, plan, staff_key
from services.notifier.domain.preferences import TEMPLATE_CATEGORIES, category_of
from services.notifier.domain.rendering import TemplateCatalogue
from shared.config import Settings
from shared.pseudonyms import translator_id
from shared.tokens import TokenError, verify_token
from tests.unit.notifier.samples import EVENTS, RESOURCES, T, contact

PORTAL = "https://portal.example.org"
SETTINGS = Settings(secret_keys={"k1": "unit-secret"}, portal_url=PORTAL)
CATALOGUE = TemplateCatalogue()
URL = re.compile(r"https?://[^\s<>\"]+")
# links to things outside the platform: a clinic's meeting, a recording, a thing to translate
OUTSIDE = ("https://meet.example.org/", "https://commons.example.org/", "https://meta.example.org/")
# what each template's own link is: (path, scope, resource)
EXPECTED = {
    "welcome": [("/me", None, None), ("/sign-in", None, None)],
    "sign_in": [("/sign-in/complete", "signin", "sr1")],
    "match_proposal": [("/matches/m1", "match.respond", "m1")],
    "match_introduction": [("/matches/m1", "match.outcome", "m1")],
    "connection_thanks": [("/matches/m1", "match.outcome", "m1")],
    "connection_confirm": [("/connections/m1", "connection.confirm", "m1")],
    "match_declined": [],
    "clinic_invitation": [("/clinics/c1", "clinic.register", "c1")],
    "clinic_reminder": [("/clinics/c1", "clinic.register", "c1")],
    "feedback_request": [("/clinics/c1/feedback", "clinic.feedback", "c1"), ("/resources/r1", None, None),
                         ("/resources/r2", None, None)],
    "resource_new": [("/resources/r1", None, None)],
    "resource_digest": [("/resources/r1", None, None), ("/resources/r2", None, None)],
    "translation_request": [("/staff/translations", None, None)],
    "presenter_scheduled": [("/clinics/c1", "clinic.present", "c1"), ("/resources", None, None)],
    "presenter_reminder": [("/clinics/c1", "clinic.present", "c1")],
    "interpreter_request": [("/interpretation/ir1", "interpretation.respond", "ir1")],
    "interpreter_scheduled": [("/interpretation/ir1", "interpretation.respond", "ir1")],
    "interpreter_reminder": [("/interpretation/ir1", "interpretation.respond", "ir1")],
    "interpretation_missing": [("/staff/clinics/c1", None, None)],
    "interpretation_unavailable": [("/clinics/c1", "clinic.register", "c1")],
}
# people outside the registry, reached at a configured address: an interpreter's token names the
# keyed hash of that address, never the address or a participant
BY_ADDRESS = ("translation_request", "interpreter_request", "interpreter_scheduled", "interpreter_reminder",
              "interpretation_missing")
for seat_change in ("clinic_confirmed", "clinic_waitlisted", "clinic_promoted", "clinic_changed", "clinic_cancelled",
                    "clinic_registration_cancelled"):
    EXPECTED[seat_change] = [("/clinics/c1", "clinic.register", "c1")] if seat_change != "clinic_cancelled" else []


def links_of(template, language="en"):
    contacts = {"p1": contact("p1"), "p2": contact("p2")}
    event_type, data = EVENTS[template]
    if template == "sign_in":
        data = {**data, "expires_at": (datetime.now(timezone.utc) + timedelta(minutes=30)).isoformat()}
    envelope = {"id": "e1", "type": event_type, "time": T, "data": data}
    recipient = (Recipient(address="t@example.org", languages=("ar",)) if template in BY_ADDRESS
                 else Recipient.from_contact(contacts["p1"]))
    resources = [{**r, "_id": f"r{n}"} for n, r in enumerate(RESOURCES, 1)]
    parts = message_parts(template, envelope, recipient, SETTINGS, contacts=contacts, resources=resources,
                          category=category_of(template))
    rendered = CATALOGUE.render(template, language, parts.context)
    return [u.rstrip(".,;:)") for u in URL.findall(rendered.text)], parts


@pytest.mark.parametrize("language", ["en", "ar", "pt"])
@pytest.mark.parametrize("template", sorted(TEMPLATE_CATEGORIES))
def test_every_link_in_every_message_lands_on_the_portal_with_exactly_its_token(template, language):
    urls, parts = links_of(template, language)
    ours = [url for url in urls if not url.startswith(OUTSIDE)]
    assert ours and all(url.startswith(f"{PORTAL}/") for url in ours), ours
    found = set()
    for url in ours:
        link = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(link.query).items()}
        if link.path == "/preferences":  # every footer: change what you receive, or stop this kind
            assert verify_token(SETTINGS, query["token"]).holds_link("preferences", "p1", "p1")
            assert set(query) <= {"token", "unsubscribe"}
            continue
        token = query.get("token")
        principal = verify_token(SETTINGS, token) if token else None
        found.add((link.path, principal and principal.scope, principal and principal.resource))
        if principal:
            subject = translator_id(SETTINGS, "t@example.org") if template in BY_ADDRESS else "p1"
            assert principal.kind == "link" and principal.subject == subject
    assert found == set(EXPECTED[template])


def test_a_proposal_link_lives_no_longer_than_the_proposal():
    expires = datetime.now(timezone.utc) + timedelta(days=2)
    event_type, data = EVENTS["match_proposal"]
    envelope = {"id": "e1", "type": event_type, "time": T, "data": {**data, "expires_at": expires.isoformat()}}
    parts = message_parts("match_proposal", envelope, Recipient.from_contact(contact("p1")), SETTINGS,
                          contacts={"p1": contact("p1"), "p2": contact("p2")}, category="matches")
    token = parse_qs(urlsplit(parts.context["respond_url"]).query)["token"][0]
    assert verify_token(SETTINGS, token).holds_link("match.respond", "m1", "p1")
    with pytest.raises(TokenError):
        verify_token(SETTINGS, token, now=(expires + timedelta(seconds=2)).timestamp())


def sign_in_event(audience="participant", subject="p1", minutes=30, language=None):
    expires = (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat()
    return {"id": "e1", "type": "sign-in-requested", "time": T,
            "data": {"request_id": "sr1", "audience": audience, "subject_id": subject, "expires_at": expires,
                     "language": language}}


def test_a_staff_sign_in_goes_to_the_staff_page_with_a_single_use_token_of_the_request():
    envelope = sign_in_event("staff", "s1", language="fr")
    [planned] = plan("sign-in-requested", envelope["data"])
    assert planned == Planned("sign_in", staff_id="s1") and planned.recipient == "staff:s1"
    staff = staff_contact_from_event({"staff_id": "s1", "revision": 1, "status": "active", "roles": ["coordinator"],
                                      "email": "s1@example.org", "name": "Sam", "languages": ["ar"]}, datetime.now())
    decision = decide(envelope, planned, {staff_key("s1"): staff}, {})
    assert decision.recipient.address == "s1@example.org" and decision.recipient.languages == ("fr", "ar")
    parts = message_parts("sign_in", envelope, decision.recipient, SETTINGS, category="account")
    link = urlsplit(parts.context["sign_in_url"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == f"{PORTAL}/staff/sign-in/complete"
    principal = verify_token(SETTINGS, parse_qs(link.query)["token"][0])
    assert (principal.kind, principal.subject, principal.scope, principal.resource) == ("link", "s1", "signin", "sr1")
    with pytest.raises(TokenError):  # single-use is the registry's; the expiry is the request's
        verify_token(SETTINGS, parse_qs(link.query)["token"][0], now=principal.issued_at + 31 * 60)
    assert parts.unsubscribe_url is None and parts.context["links"]["preferences"] is None
    rendered = CATALOGUE.render("sign_in", "fr", parts.context)
    assert parts.context["sign_in_url"] in rendered.text and "registered" not in rendered.text


def test_a_sign_in_waits_for_an_unknown_address_but_not_past_its_expiry():
    envelope = sign_in_event("staff", "s1", minutes=10)
    planned = Planned("sign_in", staff_id="s1")
    assert named_people(envelope, planned) == ["staff:s1"]
    decision = decide(envelope, planned, {}, {})
    assert (decision.action, decision.awaiting) == ("park", ("staff:s1",))
    now = datetime.now(timezone.utc)
    doc = parked(new_delivery("n1", envelope, planned, now), envelope, planned, decision.awaiting, now, 3600)
    assert doc["parked_until"] <= now + timedelta(minutes=10) and planned_of(doc) == planned
    late = now + timedelta(minutes=11)
    staff = {"_id": "s1", "email": "s1@example.org", "languages": []}
    assert decide(envelope, planned, {staff_key("s1"): staff}, {}, late).action == "skip"
    assert decide(envelope, planned, {staff_key("s1"): staff}, {}, now).action == "render"


def test_a_removed_staff_account_keeps_no_address_and_gets_no_mail():
    removed = staff_contact_from_event({"staff_id": "s1", "revision": 2, "status": "removed", "roles": [],
                                        "email": None}, datetime.now())
    assert set(removed) == {"_id", "revision", "status", "updated_at"}
    assert not replaces(removed, 1) and replaces(removed, 3)
    assert decide(sign_in_event("staff", "s1"), Planned("sign_in", staff_id="s1"),
                  {staff_key("s1"): removed}, {}).action == "drop"


def test_a_participant_sign_in_is_in_the_language_they_asked_in_then_theirs():
    envelope = sign_in_event(language="pt")
    [planned] = plan("sign-in-requested", envelope["data"])
    assert planned == Planned("sign_in", "p1")
    decision = decide(envelope, planned, {"p1": contact("p1", langs=("ar", "en"))}, {"p1": {"skip": ["matches"]}})
    assert decision.recipient.languages == ("pt", "ar", "en")
