"""A page's language and direction; times in the viewer's zone and locale (Babel)."""
from services.portal.domain import languages, times


def test_the_switch_wins_then_the_remembered_choice_then_accept_language_then_english():
    accepted = [("de", 1.0), ("pt-BR", 0.9), ("fr", 0.5)]
    assert languages.interface_language("ar", "fr", accepted) == "ar"
    assert languages.interface_language("xx", "fr", accepted) == "fr"
    assert languages.interface_language(None, None, accepted) == "pt"
    assert languages.interface_language(None, None, [("de", 1.0)]) == "en"


def test_arabic_is_written_right_to_left():
    assert languages.direction("ar") == "rtl"
    assert {languages.direction(code) for code in ("en", "es", "fr", "pt")} == {"ltr"}


def test_the_switch_names_each_language_in_itself_and_the_forms_name_every_language_in_the_readers():
    assert dict(languages.interface_choices()) == {"en": "English", "ar": "العربية", "es": "español",
                                                   "fr": "français", "pt": "português"}
    in_french = dict(languages.language_options("fr"))
    assert in_french["ar"] == "arabe" and in_french["sw"] == "swahili"
    assert dict(languages.language_options("ar"))["en"] == "الإنجليزية"
    assert len(in_french) > 300


def test_a_slot_is_shown_in_the_viewers_zone_with_the_locales_clock():
    slot = times.slot_time("2026-12-10T14:00:00Z", 90, "en", "America/Sao_Paulo")
    assert slot.day == "Thursday, December 10, 2026"
    assert slot.hours.replace("\u2009", " ").replace("\u202f", " ") == "11:00 AM – 12:30 PM"
    assert slot.zone == "Brazil (Sao Paulo) Time (GMT-03:00)" and slot.start_iso == "2026-12-10T14:00:00Z"
    french = times.slot_time("2026-12-10T14:00:00Z", 90, "fr", "Europe/Paris")
    assert french.day == "jeudi 10 décembre 2026" and french.hours.replace("\u2009", " ") == "15:00 – 16:30"
    arabic = times.slot_time("2026-12-10T23:30:00Z", 60, "ar", "Africa/Cairo")
    assert arabic.day.startswith("الجمعة")  # already Friday in Cairo
    assert arabic.zone == "توقيت مصر (غرينتش+02:00)"


def test_the_viewers_zone_is_the_chosen_one_else_the_remembered_one_else_utc():
    assert times.viewer_zone("Asia/Kolkata", "Africa/Lagos") == "Asia/Kolkata"
    assert times.viewer_zone("Mars/Base", "Africa/Lagos") == "Africa/Lagos"
    assert times.viewer_zone(None, "nonsense") == "UTC"
    assert times.zone_name("UTC", "ar") == "UTC"


def test_every_iana_zone_is_offered_with_a_searchable_label_in_the_readers_language():
    options = dict(times.zone_options("es"))
    assert len(options) == len(times.all_zones()) > 400
    assert options["Africa/Cairo"].startswith("El Cairo")
    assert options["Asia/Kolkata"] == "Kolkata · GMT+05:30"
