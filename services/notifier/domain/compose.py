"""Turn a rendered message into a MIME email (pure: no network, no database).

Names and subjects come from people; they reach headers only through `single_line`, and the
headers are set through `EmailMessage` (default policy), which refuses CR/LF in any value: a
name such as "Eve\\r\\nBcc: x@y" can never add a header.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from services.notifier.domain.rendering import Rendered

_WHITESPACE = re.compile(r"\s+")
MAX_HEADER_TEXT = 200


def single_line(text: str | None, limit: int = MAX_HEADER_TEXT) -> str:
    """Header-safe text: control characters (CR, LF, NUL ...) become spaces, runs collapse."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in (text or ""))
    cleaned = _WHITESPACE.sub(" ", cleaned).strip()
    return cleaned[:limit]


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
    message = EmailMessage(policy=policy.default)
    message["From"] = mail_from
    local, _, domain = to_address.strip().rpartition("@")
    message["To"] = Address(display_name=single_line(to_name), username=single_line(local), domain=single_line(domain))
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


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as it goes over SMTP (CRLF line ends)."""
    return message.as_bytes(policy=policy.SMTP)
