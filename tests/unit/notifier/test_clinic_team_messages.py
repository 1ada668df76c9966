"""The clinic team's messages (issue 17): presenters, interpreters, the program team and attendees of a
missing language; who receives them, in all five languages, with links that land on the portal
carrying a token for exactly their action."""
from urllib.parse import parse_qs, urlsplit

import pytest

from services.notifier.domain.messages import TEAM_TEMPLATES, Recipient, message_parts
from services.notifier.domain.planning import plan
from services.notifier.domain.preferences import category_of
from services.notifier.domain.rendering import TemplateCatalogue
from shared.config import Settings
from shared.pseudonyms import translator_for, translator_id
from shared.tokens import verify_token
from tests.unit.notifier.samples import ADDRESSED, EVENTS, T, contact

SETTINGS = Settings(secret_keys={"k1": "unit-secret"}, portal_url="https://portal.example.org",
                    translators={"ar": ("ar1@example.org", "ar2@example.org"), "fr": ("fr1@example.org",)})
CATALOGUE = TemplateCatalogue()
FIVE = ("en", "ar", "es", "fr", "pt")


def parts(template, address="ar1@example.org"):
    event_type, data = EVENTS[template]
    if template in ("interpreter_scheduled", "interpreter_reminder"):
        data = {**data, "interpreter": translator_id(SETTINGS, address)}
    envelope = {"id": "e1", "type": event_type, "time": T, "data": data}
    recipient = Recipient(address=address, languages=("ar",)) if template in ADDRESSED else \
        Recipient.from_contact(contact("p1", langs=("pt",)))
    return message_parts(template, envelope, recipient, SETTINGS, category=category_of(template))


@pytest.mark.parametrize("language", FIVE)
@pytest.mark.parametrize("template", TEAM_TEMPLATES)
def test_every_team_message_renders_in_the_five_interpretation_languages(template, language):
    rendered = CATALOGUE.render(template, language, parts(template).context)
    assert rendered.subject and "\n" not in rendered.subject and "{{" not in rendered.text
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in rendered.html


def token_of(url: str, path: str):
    split = urlsplit(url)
    assert f"{split.scheme}://{split.netloc}" == "https://portal.example.org" and split.path == path
    return verify_token(SETTINGS, parse_qs(split.query)["token"][0])


def test_presenters_land_on_their_clinic_with_a_presenter_link_and_get_the_calendar():
    made = parts("presenter_scheduled")
    principal = token_of(made.context["clinic_url"], "/clinics/c1")
    assert (principal.kind, principal.scope, principal.resource, principal.subject) == ("link", "clinic.present", "c1", "p1")
    assert made.context["resources_url"] == "https://portal.example.org/resources"
    [attachment] = made.attachments
    assert attachment.content.count(b"BEGIN:VEVENT") == 2 and b"meet.example.org/abc" in attachment.content
    text = CATALOGUE.render("presenter_scheduled", "en", made.context).text
    assert "How to prepare" in text and "resource space" in text and "meet.example.org/abc" in text
    _, data = EVENTS["presenter_scheduled"]
    gone = message_parts("presenter_scheduled", {"id": "e", "type": "presenter-scheduled", "time": T,
                                                 "data": {**data, "change": "removed", "meeting_url": None}},
                         Recipient.from_contact(contact("p1")), SETTINGS, category="schedule")
    assert b"METHOD:CANCEL" in gone.attachments[0].content


def test_interpreters_answer_on_the_portal_with_a_link_whose_subject_is_not_their_address():
    made = parts("interpreter_request")
    principal = token_of(made.context["respond_url"], "/interpretation/ir1")
    assert (principal.scope, principal.resource) == ("interpretation.respond", "ir1")
    assert principal.subject == translator_id(SETTINGS, "ar1@example.org") and "@" not in principal.subject
    assert translator_for(SETTINGS, "ar", principal.subject) == "ar1@example.org"
    confirmed = parts("interpreter_scheduled")
    assert confirmed.attachments and b"meet.example.org/abc" in confirmed.attachments[0].content
    assert "meet.example.org/abc" in CATALOGUE.render("interpreter_reminder", "fr", parts("interpreter_reminder").context).text


def test_the_program_team_and_the_attendees_of_a_missing_language_are_told():
    missing = parts("interpretation_missing", address="team@example.org")
    assert missing.context["clinic_url"] == "https://portal.example.org/staff/clinics/c1"
    assert "All 2 translators asked have declined" in CATALOGUE.render("interpretation_missing", "en", missing.context).text
    told = parts("interpretation_unavailable")
    principal = token_of(told.context["clinic_url"], "/clinics/c1")
    assert (principal.scope, principal.subject) == ("clinic.register", "p1")


def test_who_receives_what():
    resolve = {"interpreter_address": lambda language, who: translator_for(SETTINGS, language, who),
               "program_team": ("team@example.org", "lead@example.org", "team@example.org")}
    _, request = EVENTS["interpreter_request"]
    assert [(p.template, p.address) for p in plan("translation-requested", request, SETTINGS.translators, **resolve)] == [
        ("interpreter_request", "ar1@example.org"), ("interpreter_request", "ar2@example.org")]
    _, written = EVENTS["translation_request"]
    assert {p.template for p in plan("translation-requested", written, SETTINGS.translators)} == {"translation_request"}
    _, confirmed = EVENTS["interpreter_scheduled"]
    mine = {**confirmed, "interpreter": translator_id(SETTINGS, "ar2@example.org")}
    assert [p.address for p in plan("interpreter-scheduled", mine, **resolve)] == ["ar2@example.org"]
    assert plan("interpreter-scheduled", {**confirmed, "interpreter": translator_id(SETTINGS, "gone@example.org")},
                **resolve) == []  # no longer configured: nobody to write to
    _, missing = EVENTS["interpretation_missing"]
    team = plan("interpretation-missing", missing, **resolve)
    assert [(p.address, p.languages) for p in team] == [("team@example.org", ("en",)), ("lead@example.org", ("en",))]
    assert plan("interpretation-missing", missing) == []  # no program team configured
    for template in ("presenter_scheduled", "presenter_reminder", "interpretation_unavailable"):
        event_type, data = EVENTS[template]
        assert [(p.template, p.participant_id) for p in plan(event_type, data)] == [(template, "p1")]
