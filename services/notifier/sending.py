"""The worker's SMTP side: sends the stored messages and hands every outcome back to be recorded.

A sender sends the messages its own process's consumers just queued (stored already claimed by
this process, handed over in memory after commit) and, every `scan_seconds`, whatever the
database says is due (retries, or messages whose claim lapsed because a copy died); it sends
them on one kept-open connection, then a delivery-log thread records all outcomes in one
transaction together with the notification-sent / notification-failed events
(service.SendOutcomes). Transient failures come back later with exponential backoff and jitter;
permanent ones (5xx) and exhausted retries are failed.

At the SMTP boundary delivery is at-least-once: a crash after the relay accepted a message and
before its outcome is stored sends it again after `claim_seconds`, with the same Message-ID.

LC_SMTP_URL: smtp://host:port, smtps://host:port (implicit TLS), smtp://user:password@host:port
?starttls=1 (upgrade with STARTTLS, then log in).
"""
from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr
from typing import Callable
from urllib.parse import parse_qs, unquote, urlsplit

from shared.clock import utcnow

from services.notifier.config import NotifierConfig
from services.notifier.domain.retry import Failure, classify
from services.notifier.store import Store

log = logging.getLogger(__name__)

Attempts = list[tuple[dict, Failure | None]]


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


class Sender:
    def __init__(self, settings, config: NotifierConfig, store: Store, record: Callable[[Attempts], None],
                 wake: threading.Event | None = None, stop: threading.Event | None = None,
                 handoff: deque | None = None, owner: str | None = None):
        self.settings = settings
        self.config = config
        self.store = store
        self.record = record  # service.SendOutcomes.record: the delivery log and its events
        self.smtp = SmtpClient(settings.smtp_url, timeout=config.smtp_timeout_seconds)
        self.envelope_from = parseaddr(settings.mail_from)[1]
        self.wake = wake or threading.Event()
        self.stop = stop or threading.Event()
        self.handoff = handoff if handoff is not None else deque()
        self.owner = owner or uuid.uuid4().hex
        self._next_scan = 0.0
        # outcomes wait here for the delivery-log thread, so SMTP never idles on the database
        self.outcomes: queue.Queue[Attempts] = queue.Queue()

    def run(self) -> None:
        """The worker's sending loop (a PeriodicJob): send while anything is due, then wait briefly."""
        self.wake.clear()
        try:
            while not self.stop.is_set() and self.send_round():
                pass
        except Exception:  # the database or the relay is down: try again shortly, keep the worker alive
            log.exception("notifier: sending round failed")
            self.smtp.close()
            self.stop.wait(1.0)
            return
        if self.stop.is_set():
            self.smtp.close()
            self.record_pending(wait=0)  # nothing sent may go unrecorded
            return
        self.wake.wait(min(0.5, max(0.01, self._next_scan - time.monotonic())))

    def send_round(self) -> int:
        """One batch: messages this process just queued, else (now and then) whatever is due."""
        batch = self._claim_handed_off()
        if not batch and time.monotonic() >= self._next_scan:
            batch = self._claim_due()
            self._next_scan = time.monotonic() + (0 if batch else self.config.scan_seconds)
        if not batch:
            return 0
        outcomes = []
        for doc in batch:
            try:
                self.smtp.send(self.envelope_from, doc["to"], bytes(doc["message"]))
                outcomes.append((doc, None))
            except Exception as exc:  # every failure is classified and recorded, none stops the loop
                outcomes.append((doc, classify(exc)))
        self.outcomes.put(outcomes)
        return len(batch)

    def record_pending(self, wait: float = 0.5) -> int:
        """The delivery-log thread (a PeriodicJob): store every outcome waiting, in one transaction."""
        batch: Attempts = []
        try:
            batch.extend(self.outcomes.get(timeout=wait) if wait else self.outcomes.get_nowait())
            while True:
                batch.extend(self.outcomes.get_nowait())
        except queue.Empty:
            pass
        if not batch:
            return 0
        try:
            self.record(batch)
        except Exception:  # keep them for the next round: an unrecorded send would be sent again
            self.outcomes.put(batch)
            log.exception("notifier: recording %d outcomes failed; will retry", len(batch))
            self.stop.wait(1.0)
            return 0
        return len(batch)

    def _claim_handed_off(self) -> list[dict]:
        """Messages this process's consumers queued: claimed when stored, nothing to read back."""
        now = utcnow()
        margin = timedelta(seconds=min(10.0, self.config.claim_seconds / 4))
        batch = []
        while self.handoff and len(batch) < self.config.send_batch:
            doc = self.handoff.popleft()
            if doc["claimed_until"] - margin > now:  # else its claim lapses: the scan takes it over
                batch.append(doc)
        if not batch:
            return []
        # still ours and still wanted? (a withdrawal may have cancelled one meanwhile)
        still_ours = self.store.still_claimed({doc["_id"]: doc["claim"] for doc in batch})
        return [doc for doc in batch if doc["_id"] in still_ours]

    def _claim_due(self) -> list[dict]:
        now = utcnow()
        free = self.store.due_unclaimed(now, self.config.send_batch)
        stale = self.store.lapsed_claims(now, self.config.send_batch)
        claim = f"{self.owner}:{uuid.uuid4().hex[:8]}"
        return self.store.claim(free, stale, claim, now + timedelta(seconds=self.config.claim_seconds))

    def close(self) -> None:
        self.smtp.close()
