"""One SMTP connection, kept open between messages (smtplib over TCP).

LC_SMTP_URL: smtp://host:port, smtps://host:port (implicit TLS), smtp://user:password@host:port
?starttls=1 (upgrade with STARTTLS, then log in).
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(f"LC_SMTP_URL must start with smtp:// or smtps://, got {url!r}")
    query = parse_qs(parts.query)
    return SmtpTarget(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or (465 if parts.scheme == "smtps" else 25),
        implicit_tls=parts.scheme == "smtps",
        starttls=query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes"),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpClient:
    def __init__(self, url: str, timeout: float = 10.0):
        self.target = parse_smtp_url(url)
        self.timeout = timeout
        self.connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        if target.implicit_tls:
            connection = smtplib.SMTP_SSL(target.host, target.port, timeout=self.timeout,
                                          context=ssl.create_default_context())
        else:
            connection = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
        try:
            connection.ehlo()
            if target.starttls:
                connection.starttls(context=ssl.create_default_context())
                connection.ehlo()
            if target.username:
                connection.login(target.username, target.password or "")
        except BaseException:
            self._close(connection)
            raise
        return connection

    def send(self, sender: str, recipient: str, data: bytes) -> None:
        """Send one message; raises smtplib/OS errors (the caller classifies them)."""
        reused = self.connection is not None
        if self.connection is None:
            self.connection = self._connect()
        try:
            self._sendmail(sender, recipient, data)
        except smtplib.SMTPServerDisconnected:
            self.close()
            if not reused:
                raise
            # an idle connection the relay dropped: one fresh connection, not a failed attempt
            self.connection = self._connect()
            self._sendmail(sender, recipient, data)

    def _sendmail(self, sender: str, recipient: str, data: bytes) -> None:
        try:
            self.connection.sendmail(sender, [recipient], data)
        except smtplib.SMTPServerDisconnected:
            raise
        except (smtplib.SMTPException, OSError):
            self.close()  # start the next message on a clean connection
            raise

    def close(self) -> None:
        if self.connection is not None:
            self._close(self.connection)
            self.connection = None

    @staticmethod
    def _close(connection: smtplib.SMTP) -> None:
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            try:
                connection.close()
            except OSError:
                pass
