from pathlib import Path

import pytest

from services.notifier.domain.messages import Recipient, message_parts
from services.notifier.domain.preferences import TEMPLATE_CATEGORIES, category_of
from services.notifier.domain.rendering import RenderError, TemplateCatalogue
from shared.config import Settings
from tests.unit.notifier.samples import EVENTS, RESOURCES, T, contact

CATALOGUE = TemplateCatalogue()
LANGUAGES = ("en", "ar", "fr", "es")
SETTINGS = Settings(secret_keys={"k1": "unit-secret"})


def render(template, language, contacts=None, catalogue=CATALOGUE):
    contacts = contacts or {"p1": contact("p1"), "p2": contact("p2", name="Chloé")}
    event_type, data = EVENTS[template]
    envelope = {"id": "e1", "type": event_type, "time": T, "data": data}
    recipient = (Recipient(address="translator@example.org", languages=("ar",)) if template == "translation_request"
                 else Recipient.from_contact(contacts["p1"]))
    parts = message_parts(template, envelope, recipient, SETTINGS, contacts=contacts, resources=RESOURCES,
                          category=category_of(template))
    return catalogue.render(template, language, parts.context), parts


def test_every_message_exists_in_english_arabic_french_and_spanish():
    for template in TEMPLATE_CATEGORIES:
        assert set(LANGUAGES) <= CATALOGUE.languages(template), template
    assert set(EVENTS) == set(TEMPLATE_CATEGORIES)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(TEMPLATE_CATEGORIES))
def test_every_message_renders_in_every_language(template, language):
    rendered, _ = render(template, language)
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.strip() and "{{" not in rendered.text
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in rendered.html
    assert rendered.language == language


def test_html_escapes_what_people_wrote_and_links_stay_clickable():
    contacts = {"p1": contact("p1", name='<script>alert("x")</script>'), "p2": contact("p2")}
    rendered, _ = render("match_proposal", "en", contacts)
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert '<script>alert("x")</script>' in rendered.text  # plain text stays as written
    assert '<a href="http://127.0.0.1:8002/matches/m1/respond?response=accept&amp;participant=p1' in rendered.html


def test_dates_are_in_the_readers_time_zone_and_language():
    rendered, _ = render("clinic_reminder", "fr")
    assert "jeudi 10 décembre 2026, 16:00 (Africa/Cairo)" in rendered.text  # 14:00 UTC in Cairo


def test_a_broken_template_raises_render_error(tmp_path: Path):
    (tmp_path / "welcome.en.txt").write_text("{% block subject %}{{ nope.missing }}{% endblock %}{% block body %}x{% endblock %}")
    (tmp_path / "clinic_reminder.en.txt").write_text("{% block subject %}{{ oops( }}{% endblock %}")
    broken = TemplateCatalogue((str(tmp_path),))
    for template in ("welcome", "clinic_reminder"):
        with pytest.raises(RenderError):
            render(template, "en", catalogue=broken)
    with pytest.raises(RenderError):
        CATALOGUE.render("no_such_template", "en", {})


def test_an_override_directory_can_add_a_language(tmp_path: Path):
    assert "sw" not in CATALOGUE.languages("welcome")
    (tmp_path / "welcome.sw.txt").write_text(
        "{% block subject %}Karibu, {{ name }}{% endblock %}{% block body %}Habari {{ name }}{% endblock %}")
    with_swahili = TemplateCatalogue((str(tmp_path),))
    assert with_swahili.languages("welcome") == {"en", "ar", "fr", "es", "sw"}
    rendered, _ = render("welcome", "sw", catalogue=with_swahili)
    assert rendered.subject == "Karibu, Ahmed" and '<html lang="sw" dir="ltr">' in rendered.html
