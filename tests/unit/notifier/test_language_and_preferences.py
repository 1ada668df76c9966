from shared.languages import choose_language, text_direction
from services.notifier.domain.preferences import (
    ALWAYS_SENT, SKIPPABLE, TEMPLATE_CATEGORIES, resource_mode, should_send, unsubscribable, with_unsubscribed,
)

ALL = {"en", "ar", "fr", "es"}


def test_first_language_with_the_template_wins():
    choice = choose_language(["ar", "en"], ALL)
    assert (choice.language, choice.missing, choice.in_first_language) == ("ar", None, True)


def test_next_language_when_the_first_lacks_it_and_the_gap_is_reported():
    choice = choose_language(["sw", "fr", "en"], ALL)
    assert (choice.language, choice.first, choice.missing) == ("fr", "sw", "sw")
    assert not choice.in_first_language


def test_english_when_none_of_the_persons_languages_has_it():
    choice = choose_language(["sw", "yo"], ALL)
    assert (choice.language, choice.missing) == ("en", "sw")


def test_regional_variant_uses_its_base_language():
    assert choose_language(["fr-CA"], ALL).language == "fr"
    assert choose_language(["fr-CA"], ALL).missing is None
    assert choose_language(["pt-BR"], ALL) .missing == "pt-BR"


def test_no_languages_means_english():
    assert choose_language([], ALL).language == "en"


def test_arabic_and_persian_are_right_to_left_others_left_to_right():
    assert text_direction("ar") == "rtl" and text_direction("fa") == "rtl" and text_direction("he") == "rtl"
    assert text_direction("en") == "ltr" and text_direction("fr") == "ltr"
    assert text_direction("not-a-language") == "ltr"


def test_schedule_changes_and_confirmed_matches_are_always_sent():
    everything_off = {"skip": list(SKIPPABLE)}
    for template, category in TEMPLATE_CATEGORIES.items():
        sent = should_send(category, everything_off)
        assert sent == (category in ALWAYS_SENT), template
    assert should_send("schedule", {"skip": ["schedule"]})  # even if stored somehow
    assert should_send("introductions", {"skip": ["introductions"]})


def test_skipped_categories_are_not_sent_and_defaults_send_everything():
    assert not should_send("reminders", {"skip": ["reminders"]})
    assert should_send("reminders", None) and should_send("resources", {})


def test_only_non_critical_mail_can_be_unsubscribed():
    assert unsubscribable("matches") and unsubscribable("resources")
    assert not unsubscribable("schedule") and not unsubscribable("introductions") and not unsubscribable("account")


def test_resource_mail_is_a_digest_unless_asked_for_each_one():
    assert resource_mode(None) == "digest"
    assert resource_mode({"resources": "immediate"}) == "immediate"


def test_unsubscribing_adds_one_category_and_keeps_the_rest():
    assert with_unsubscribed({"skip": ["feedback"], "resources": "immediate"}, "matches") == {
        "skip": ["feedback", "matches"], "resources": "immediate"}
