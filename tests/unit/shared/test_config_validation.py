"""Configuration from the environment, and the shared validators."""
import pytest
from marshmallow import ValidationError

from shared.config import Settings
from shared.taxonomy import base_taxonomy, base_topics, topic_label
from shared.validation import is_language_code, is_time_zone, safe_url, single_line


def test_settings_come_from_lc_variables(monkeypatch):
    monkeypatch.setenv("LC_KAFKA_BOOTSTRAP", "kafka:9092")
    monkeypatch.setenv("LC_REGISTRY_PORT", "9001")
    monkeypatch.setenv("LC_STAFF_TOKENS", "a, b")
    monkeypatch.setenv("LC_SECRET_KEYS", "k2:two,k1:one")
    monkeypatch.setenv("LC_TRANSLATORS", "ar:x@example.org,ar:y@example.org,fr:z@example.org")
    settings = Settings.from_env()
    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.ports["registry"] == 9001 and settings.ports["matcher"] == 8002
    assert settings.staff_tokens == ("a", "b")
    assert list(settings.secret_keys) == ["k2", "k1"]
    assert settings.translators == {"ar": ("x@example.org", "y@example.org"), "fr": ("z@example.org",)}


def test_new_topics_get_the_configured_retention_and_only_a_real_refusal_is_an_error(monkeypatch):
    from shared.bus import new_topics, refused_topics

    monkeypatch.setenv("LC_TOPIC_PREFIX", "prod-")
    monkeypatch.setenv("LC_TOPIC_RETENTION_HOURS", "72")
    settings = Settings.from_env()
    [created] = new_topics(settings, ["participant-registered"])
    assert created.name == "prod-participant-registered"
    assert created.topic_configs == {"retention.ms": str(72 * 3600 * 1000)}
    response = {"topics": [
        {"name": "prod-participant-registered", "error_code": 0, "error_message": None},
        {"name": "prod-match-proposed", "error_code": 36, "error_message": "Topic with this name already exists."},
        {"name": "prod-match-joined", "error_code": 37, "error_message": "Number of partitions is invalid."}]}
    assert refused_topics(response) == ["prod-match-joined: Number of partitions is invalid."]


def test_the_outbox_wake_mode_is_polling_unless_change_streams_are_asked_for(monkeypatch):
    assert Settings.from_env().outbox_wake == "poll"
    monkeypatch.setenv("LC_OUTBOX_WAKE", "Change-Stream")
    assert Settings.from_env().outbox_wake == "change-stream"
    monkeypatch.setenv("LC_OUTBOX_WAKE", "sometimes")
    with pytest.raises(SystemExit, match="LC_OUTBOX_WAKE must be one of poll, change-stream"):
        Settings.from_env()


def test_a_bad_number_stops_with_a_message(monkeypatch):
    monkeypatch.setenv("LC_TOPIC_PARTITIONS", "six")
    with pytest.raises(SystemExit, match="LC_TOPIC_PARTITIONS"):
        Settings.from_env()


@pytest.mark.parametrize("code, ok", [("ar", True), ("arz", True), ("pt-BR", True), ("hi", True),
                                      ("xx", False), ("english", False), ("und", False), ("", False)])
def test_language_codes(code, ok):
    assert is_language_code(code) is ok


def test_time_zones():
    assert is_time_zone("Asia/Kathmandu") and is_time_zone("America/St_Johns")
    assert not is_time_zone("Cairo") and not is_time_zone("UTC+2")


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "ftp://x.org/a", "//x.org",
                                 "https://x.org/a b", "https://x.org/\r\nX: y"])
def test_unsafe_links_are_refused(url):
    with pytest.raises(ValidationError):
        safe_url(url)


def test_names_cannot_smuggle_mail_headers():
    with pytest.raises(ValidationError):
        single_line("Ahmed\r\nBcc: everyone@example.org")
    single_line("أحمد 🎉 अहमद")


def test_taxonomy_covers_the_seed_table_in_four_languages():
    categories = {c["code"] for c in base_taxonomy()["categories"]}
    assert categories == {"funding", "programmatic", "organisational", "technical", "interpersonal"}
    for topic in base_topics().values():
        assert {"en", "ar", "fr", "es"} <= set(topic["labels"])
    assert set(base_taxonomy()["pilot_top_learn"]) <= set(base_topics())
    assert topic_label("budget-development", "ar") == "إعداد الميزانية"
    assert topic_label("budget-development", "fr-CA") == "Élaboration du budget"
    assert topic_label("budget-development", "sw") == "Budget development"
