"""Turn a rendered message into a MIME email (pure: no network, no database).

Names, titles and subjects come from people and reach headers. They go through `single_line`
(control characters and line separators become spaces, RFC 2047 encoded-word syntax is taken
apart, so nothing decodes into a line break later) and are set through the email package's
structured API: `Address` objects, a policy with a 78-character line length. Python's folding of
long display names has lost their quoting before (one name became two addresses), so the
headers that carry people's text are folded, parsed back and checked (each one header, one To
address, no line break in any decoded value); a display name that does not survive is
simplified, then dropped. List-Unsubscribe is written as RFC 8058 wants it: one plain URL, never folded into
encoded words.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.header import decode_header
from email.headerregistry import Address, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from services.notifier.domain.rendering import Rendered

_WHITESPACE = re.compile(r"\s+")
# an RFC 2047 encoded word: =?charset?B|Q?text?= (it may decode into anything, CR and LF too)
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bBqQ]\?[^?\s]*\?=")
_UNSAFE_IN_NAMES = re.compile(r'[()<>\[\]:;@\\,."]')
MAX_HEADER_TEXT = 200
MAX_LINE = 78
# what a plain one-click URL may hold: printable ASCII without spaces, quotes or angle brackets
_PLAIN_URL = re.compile(r"^https?://[!#-;=?-~]+$")


def single_line(text: str | None, limit: int = MAX_HEADER_TEXT) -> str:
    """Header-safe text: control and format characters (CR, LF, NUL, bidi overrides ...) become
    spaces, runs of space collapse, and no `=?` or `?=` is left to start or end an encoded word."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch
                      for ch in (text or ""))
    cleaned = _WHITESPACE.sub(" ", cleaned)
    cleaned = _ENCODED_WORD.sub(lambda found: found.group(0)[2:-2], cleaned)  # keep its text, not its form
    # what is left of the syntax (nested or broken words) must not pair up in a lenient decoder
    cleaned = cleaned.replace("=?", "= ?").replace("?=", "? =")
    return cleaned.strip()[:limit].strip()


def plain_name(text: str | None) -> str:
    """A display name with none of the characters RFC 5322 gives a meaning (a fallback)."""
    return _WHITESPACE.sub(" ", _UNSAFE_IN_NAMES.sub(" ", single_line(text))).strip()


class PlainUrlHeader(UnstructuredHeader):
    """List-Unsubscribe: `<url>`, written as it is. An unstructured header would fold a long URL
    into encoded words, which mail clients do not take as a one-click link."""

    max_count = 1

    @classmethod
    def parse(cls, value, kwds):
        url = str(value).strip()
        if not (url.startswith("<") and url.endswith(">") and _PLAIN_URL.match(url[1:-1])
                and "=?" not in url and len(url) < 990 - len("List-Unsubscribe: ")):
            raise ValueError("List-Unsubscribe takes one plain http(s) URL in angle brackets")
        super().parse(url, kwds)
        kwds["decoded"] = url

    def fold(self, *, policy):
        return f"{self.name}: {self}{policy.linesep}"


class _Headers(HeaderRegistry):
    """The header registry, with one class per header name: the email package's own makes a new
    class for every header it sets (type() each time), a third of what building a message costs."""

    def __init__(self):
        super().__init__()
        self._classes: dict[str, type] = {}

    def map_to_type(self, name, cls):
        super().map_to_type(name, cls)
        self._classes.clear()

    def __getitem__(self, name):
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(key)
        return made


def _registry() -> HeaderRegistry:
    registry = _Headers()
    registry.map_to_type("list-unsubscribe", PlainUrlHeader)
    return registry


# how every message is built and written: SMTP line ends, 78-character lines, our List-Unsubscribe
MAIL_POLICY = policy.SMTP.clone(max_line_length=MAX_LINE, header_factory=_registry())


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "text"
    subtype: str = "calendar"
    params: dict = field(default_factory=dict)


def message_id(notification_id: str, mail_from: str) -> str:
    """Stable per notification: a retry or a crash-and-resend carries the same Message-ID."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "letsconnect.invalid"
    return f"<{notification_id}@{domain}>"


def build_email(rendered: Rendered, *, mail_from: str, to_name: str | None, to_address: str,
                notification_id: str, unsubscribe_url: str | None = None,
                attachments: tuple[Attachment, ...] = (), date: datetime | None = None,
                extra_headers: dict[str, str] | None = None) -> EmailMessage:
    """The message, with headers that parse back to exactly what was set (ValueError otherwise)."""
    for display_name in dict.fromkeys((single_line(to_name), plain_name(to_name), "")):
        message = _assemble(rendered, mail_from=mail_from, display_name=display_name, to_address=to_address,
                            notification_id=notification_id, unsubscribe_url=unsubscribe_url,
                            attachments=attachments, date=date, extra_headers=extra_headers)
        if headers_hold(message, to_address):
            return message
    raise ValueError("the message's headers do not survive folding")


def _assemble(rendered: Rendered, *, mail_from: str, display_name: str, to_address: str, notification_id: str,
              unsubscribe_url: str | None, attachments: tuple[Attachment, ...], date: datetime | None,
              extra_headers: dict[str, str] | None) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    sender_name, sender_address = parseaddr(mail_from)
    message["From"] = Address(display_name=single_line(sender_name), addr_spec=sender_address)
    message["To"] = Address(display_name=display_name, addr_spec=to_address.strip())
    message["Subject"] = single_line(rendered.subject)
    message["Date"] = format_datetime(date or datetime.now(timezone.utc))
    message["Message-ID"] = message_id(notification_id, mail_from)
    message["Auto-Submitted"] = "auto-generated"
    if unsubscribe_url:
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    for name, value in (extra_headers or {}).items():
        message[name] = single_line(value)
    # quoted-printable: safe through relays without 8BITMIME
    message.set_content(rendered.text, cte="quoted-printable")
    message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
    for attachment in attachments:
        if attachment.maintype == "text":
            message.add_attachment(attachment.content.decode("utf-8"), subtype=attachment.subtype,
                                   filename=attachment.filename, params=attachment.params)
        else:
            message.add_attachment(attachment.content, maintype=attachment.maintype, subtype=attachment.subtype,
                                   filename=attachment.filename)
    message["Content-Language"] = rendered.language  # after the body: set_content drops Content-* headers
    return message


# the headers that carry what people wrote (names, titles); the others hold ids, dates and settings
PEOPLES_TEXT = ("From", "To", "Subject")


def headers_hold(message: EmailMessage, to_address: str) -> bool:
    """Fold the headers that carry people's text as they go on the wire and read them back as a
    mail client would: each stays one header, none decodes into a line break, To holds exactly one
    address (the recipient's). Only these three are checked, and To is parsed again only when
    folding or encoding changed its text: parsing headers costs more than rendering the message."""
    for name in PEOPLES_TEXT:
        header = message[name]
        folded = MAIL_POLICY.fold(name, header)
        lines = folded[:-len(MAIL_POLICY.linesep)].split(MAIL_POLICY.linesep)
        if not lines[0].startswith(f"{name}:") or any(line[:1] not in (" ", "\t") for line in lines[1:]):
            return False
        value = "".join(lines)[len(name) + 1:].lstrip()
        encoded = "=?" in value
        if encoded and any("\r" in part or "\n" in part for part in _decoded_words(value)):
            return False
        if name == "To":
            # as set, the header was parsed from this very text; what folding or encoding wrote is read again
            to = policy.default.header_factory("To", value) if encoded or value != str(header) else header
            if len(to.addresses) != 1 or to.addresses[0].addr_spec != to_address.strip():
                return False
    return len(message.get_all("To")) == 1


def _decoded_words(value: str) -> list[str]:
    return [part.decode("utf-8", "replace") if isinstance(part, bytes) else part
            for part, _ in decode_header(value)]


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes over SMTP (CRLF line ends)."""
    return message.as_bytes(policy=MAIL_POLICY)
