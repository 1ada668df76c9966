from urllib.parse import parse_qs, urlsplit

from services.notifier.domain.messages import Recipient, message_parts
from shared.tokens import verify_token
from shared.config import Settings
from tests.unit.notifier.samples import EVENTS, T, contact

SETTINGS = Settings(secret_keys={"k1": "unit-secret"})


def parts(template, contacts, pid="p1", data=None, resources=None, category="matches"):
    event_type, sample = EVENTS[template]
    envelope = {"id": "e1", "type": event_type, "time": T, "data": data or sample}
    return message_parts(template, envelope, Recipient.from_contact(contacts[pid]), SETTINGS, contacts=contacts,
                         resources=resources, category=category)


def test_introduction_shows_an_address_only_when_both_consented():
    both = {"p1": contact("p1"), "p2": contact("p2")}
    assert parts("match_introduction", both, category="introductions").context["others"][0]["email"] == "p2@example.org"
    other_private = {"p1": contact("p1"), "p2": contact("p2", share=False)}
    assert parts("match_introduction", other_private, category="introductions").context["others"][0]["email"] is None
    me_private = {"p1": contact("p1", share=False), "p2": contact("p2")}
    introduction = parts("match_introduction", me_private, category="introductions")
    assert introduction.context["others"][0]["email"] is None and not introduction.context["all_contacts"]


def test_proposal_names_the_others_only_with_a_public_profile():
    hidden = {"p1": contact("p1"), "p2": contact("p2", name="Hidden", public=False)}
    assert parts("match_proposal", hidden).context["others"] == [{"role": "sharer", "name": None}]


def test_proposal_links_carry_a_token_for_answering_this_proposal_and_nothing_else():
    proposal = parts("match_proposal", {"p1": contact("p1"), "p2": contact("p2")})
    accept = urlsplit(proposal.context["accept_url"])
    query = {k: v[0] for k, v in parse_qs(accept.query).items()}
    assert accept.path == "/matches/m1/respond" and accept.port == SETTINGS.ports["matcher"]
    assert query["response"] == "accept" and query["participant"] == "p1"
    link = verify_token(SETTINGS, query["token"])
    assert link.holds_link("match.respond", "m1", "p1") and not link.is_participant("p1")
    assert proposal.unsubscribe_url.startswith(f"{SETTINGS.service_url('notifier')}/preferences/p1/unsubscribe?")


def test_schedule_changes_carry_no_unsubscribe_link():
    change = parts("clinic_confirmed", {"p1": contact("p1")}, category="schedule")
    assert change.unsubscribe_url is None and change.context["links"]["unsubscribe"] is None
    assert change.attachments[0].params == {"method": "REQUEST"}


def test_feedback_links_the_recording_only_with_consent():
    _, data = EVENTS["feedback_request"]
    resources = [{"title": "Deck", "url": "https://x.org/deck", "language": "en"}]
    with_consent = parts("feedback_request", {"p1": contact("p1")}, data=data, resources=resources,
                         category="feedback")
    assert with_consent.context["recording_url"] == data["recording_url"]
    assert [r["url"] for r in with_consent.context["resources"]] == ["https://x.org/deck"]
    without = parts("feedback_request", {"p1": contact("p1")}, data={**data, "recording_consent": False},
                    category="feedback")
    assert without.context["recording_url"] is None
