"""Mail header injection closed at the root: whatever people wrote (names, titles) a message has
exactly the headers the notifier set and one To address, after folding and after MIME decoding."""
import base64
from email import message_from_bytes, policy

import pytest

from services.notifier.domain.compose import build_email, single_line, wire_bytes
from services.notifier.domain.messages import Recipient, message_parts
from services.notifier.domain.preferences import TEMPLATE_CATEGORIES, category_of, unsubscribable
from services.notifier.domain.rendering import Rendered, TemplateCatalogue
from shared.config import Settings
from tests.unit.notifier.samples import EVENTS, RESOURCES, T, contact

SETTINGS = Settings(secret_keys={"k1": "unit-secret"})
CATALOGUE = TemplateCatalogue()
FROM = "Let's Connect <letsconnect@wikimedia.example>"
CRLF_WORD = "=?utf-8?b?" + base64.b64encode(b"x\r\nBcc: victim@example.org").decode() + "?="
HOSTILE = [
    "Eve\r\nBcc: victim@example.org",
    "=?utf-8?q?Eve=0D=0ABcc:_victim@example.org?=",
    CRLF_WORD,
    "=?=?utf-8?q?a?=utf-8?q?=0D=0ABcc:_v@x.org?=",
    "A" * 70 + ', "Bob" <bob@evil.org>',
    '"Mallory" <mallory@evil.org>, Eve',
    "Ève " + "x, " * 30 + "Bcc: victim@example.org",
    "Eve\u2028Bcc: victim@example.org\u202e",
    "أحمد\r\nCc: victim@example.org",
]
BASE_HEADERS = {"from", "to", "subject", "date", "message-id", "auto-submitted", "mime-version", "content-type",
                "content-language", "x-letsconnect-template", "x-letsconnect-notification"}
UNSUBSCRIBE_HEADERS = {"list-unsubscribe", "list-unsubscribe-post"}


def read_back(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def assert_only_expected_headers(raw: bytes, address: str, expected: set[str]):
    message = read_back(raw)
    names = [name.lower() for name in message.keys()]
    assert sorted(names) == sorted(expected), names
    [to] = message.get_all("To")
    assert [a.addr_spec for a in to.addresses] == [address]
    for name, value in message.items():
        assert "\r" not in str(value) and "\n" not in str(value), (name, str(value))
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not [line for line in head.split(b"\r\n") if line.lower().startswith((b"bcc", b"cc:", b"x-evil"))]


def hostile_event(template: str, text: str) -> dict:
    """The template's sample event with every title a person could have written replaced by `text`."""
    event_type, data = EVENTS[template]
    data = dict(data)
    for key in ("title",):
        if key in data:
            data[key] = text
    if "reasons" in data:
        data["reasons"] = [text]
    return {"id": "e1", "type": event_type, "time": T, "data": data}


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("template", sorted(TEMPLATE_CATEGORIES))
def test_every_template_with_hostile_names_and_titles_keeps_exactly_its_headers(template, text):
    contacts = {"p1": contact("p1", name=text), "p2": contact("p2", name=text)}
    envelope = hostile_event(template, text)
    resources = [{**r, "title": text} for r in RESOURCES]
    if template == "translation_request":
        recipient = Recipient(address="translator@example.org", name=text, languages=("ar",))
    else:
        recipient = Recipient.from_contact(contacts["p1"])
    parts = message_parts(template, envelope, recipient, SETTINGS, contacts=contacts, resources=resources,
                          category=category_of(template))
    rendered = CATALOGUE.render(template, "en", parts.context)
    message = build_email(rendered, mail_from=FROM, to_name=recipient.name, to_address=recipient.address,
                          notification_id="n1", unsubscribe_url=parts.unsubscribe_url, attachments=parts.attachments,
                          extra_headers={"X-LetsConnect-Template": template, "X-LetsConnect-Notification": "n1"})
    expected = BASE_HEADERS | (UNSUBSCRIBE_HEADERS if unsubscribable(category_of(template)) and recipient.participant_id
                               else set())
    assert_only_expected_headers(wire_bytes(message), recipient.address, expected)


def test_encoded_words_lose_their_form_in_single_line_fields():
    assert "=?" not in single_line(CRLF_WORD) and "?=" not in single_line(CRLF_WORD)
    assert single_line("=?utf-8?q?Eve=0D=0ABcc:_v@x.org?=") == "utf-8?q?Eve=0D=0ABcc:_v@x.org"
    assert single_line("What is 2+2=?") == "What is 2+2= ?"
    assert single_line("a\u202eb\u200bc") == "a b c"


def test_a_display_name_that_would_lose_its_quoting_when_folded_is_simplified():
    name = "A" * 70 + ', "Bob" <bob@evil.org>'
    message = read_back(wire_bytes(build_email(Rendered("Hi", "t", "<p>t</p>", "en"), mail_from=FROM, to_name=name,
                                               to_address="ahmed@example.org", notification_id="n1")))
    [address] = message["To"].addresses
    assert address.addr_spec == "ahmed@example.org" and "bob@evil.org" not in address.display_name


def test_list_unsubscribe_is_one_plain_url_never_an_encoded_word():
    url = "https://notifier.example.org/unsubscribe?category=matches&token=" + "lc1." + "x" * 300
    raw = wire_bytes(build_email(Rendered("Hi", "t", "<p>t</p>", "en"), mail_from=FROM, to_name="Ahmed",
                                 to_address="ahmed@example.org", notification_id="n1", unsubscribe_url=url))
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    assert f"\r\nList-Unsubscribe: <{url}>\r\n" in head
    assert "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in head
    assert max(len(line) for line in head.split("\r\n") if not line.startswith("List-Unsubscribe:")) <= 78


@pytest.mark.parametrize("url", ["https://x.org/u?t=a b", "https://x.org/u?t==?utf-8?q?x?=", "javascript:alert(1)",
                                 "https://x.org/u\r\nBcc: v@x.org"])
def test_a_list_unsubscribe_url_that_is_not_plain_is_refused(url):
    with pytest.raises(ValueError):
        build_email(Rendered("Hi", "t", "<p>t</p>", "en"), mail_from=FROM, to_name="Ahmed",
                    to_address="ahmed@example.org", notification_id="n1", unsubscribe_url=url)
