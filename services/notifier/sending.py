"""Sends the stored messages over SMTP and records every attempt.

A sender claims due messages (queued, or claimed long ago by a copy that died), sends them on
one kept-open connection, then records all outcomes in one transaction together with the
notification-sent / notification-failed events. Transient failures come back later with
exponential backoff and jitter; permanent ones (5xx) and exhausted retries are failed.

At the SMTP boundary delivery is at-least-once: a crash after the relay accepted a message and
before its outcome is stored sends it again after `claim_seconds`, with the same Message-ID.
"""
from __future__ import annotations

import logging
import threading
import uuid
from datetime import timedelta
from email.utils import parseaddr

from pymongo import UpdateOne

from shared.mongo import in_transaction
from shared.outbox import Outbox

from services.notifier import SERVICE
from services.notifier.config import NotifierConfig
from services.notifier.notifications import SCRUB, failed_event, notification_event, now_utc
from services.notifier.retry import Failure, backoff_seconds, classify, gives_up
from services.notifier.smtp import SmtpClient
from services.notifier.store import Store

log = logging.getLogger(__name__)


class Sender:
    def __init__(self, settings, config: NotifierConfig, db, wake: threading.Event | None = None,
                 stop: threading.Event | None = None):
        self.settings = settings
        self.config = config
        self.db = db
        self.store = Store(db)
        self.outbox = Outbox(db, SERVICE)
        self.smtp = SmtpClient(settings.smtp_url, timeout=config.smtp_timeout_seconds)
        self.envelope_from = parseaddr(settings.mail_from)[1]
        self.wake = wake or threading.Event()
        self.stop = stop or threading.Event()
        self.owner = uuid.uuid4().hex

    def run(self) -> None:
        """The worker's sending loop (a PeriodicJob): send while anything is due, then wait briefly."""
        self.wake.clear()
        try:
            while not self.stop.is_set() and self.send_due():
                pass
        except Exception:  # the database or the relay is down: try again shortly, keep the worker alive
            log.exception("notifier: sending round failed")
            self.smtp.close()
            self.stop.wait(1.0)
            return
        if self.stop.is_set():
            self.smtp.close()
            return
        self.wake.wait(0.5)

    def send_due(self) -> int:
        batch = self._claim()
        if not batch:
            return 0
        outcomes = []
        for doc in batch:
            try:
                self.smtp.send(self.envelope_from, doc["to"], bytes(doc["message"]))
                outcomes.append((doc, None))
            except Exception as exc:  # every failure is classified and recorded, none stops the loop
                outcomes.append((doc, classify(exc)))
        self._record(outcomes)
        return len(batch)

    def _claim(self) -> list[dict]:
        now = now_utc()
        due = {"$or": [{"status": "queued", "due_at": {"$lte": now}},
                       {"status": "sending", "claimed_until": {"$lt": now}}]}
        ids = [doc["_id"] for doc in self.store.deliveries.find(due, {"_id": 1}).sort("due_at", 1)
               .limit(self.config.send_batch)]
        if not ids:
            return []
        claim = f"{self.owner}:{uuid.uuid4().hex[:8]}"
        self.store.deliveries.update_many(
            {"_id": {"$in": ids}, **due},
            {"$set": {"status": "sending", "claim": claim,
                      "claimed_until": now + timedelta(seconds=self.config.claim_seconds)}})
        return list(self.store.deliveries.find({"_id": {"$in": ids}, "claim": claim}).sort("due_at", 1))

    def _record(self, outcomes: list[tuple[dict, Failure | None]]) -> None:
        now = now_utc()
        operations, events = [], []
        retried = 0
        for doc, failure in outcomes:
            attempts = int(doc.get("attempts", 0)) + 1
            current = {**doc, "attempts": attempts}
            match = {"_id": doc["_id"], "claim": doc["claim"]}
            if failure is None:
                entry = {"attempt": attempts, "at": now, "outcome": "sent", "code": 250, "error": None}
                operations.append(UpdateOne(match, {
                    "$set": {"status": "sent", "sent_at": now, "attempts": attempts, "updated_at": now},
                    "$push": {"log": entry}, "$unset": SCRUB}))
                events.append(("notification-sent", notification_event(current)))
            elif gives_up(failure, attempts, self.config.max_attempts):
                reason = failure.error if not failure.transient else \
                    f"gave up after {attempts} attempts: {failure.error}"
                entry = {"attempt": attempts, "at": now, "outcome": "failed", "code": failure.code,
                         "error": failure.error}
                operations.append(UpdateOne(match, {
                    "$set": {"status": "failed", "error": reason[:500], "attempts": attempts, "updated_at": now},
                    "$push": {"log": entry}, "$unset": SCRUB}))
                events.append(("notification-failed", failed_event(current, reason, permanent=not failure.transient)))
            else:
                retried += 1
                wait = backoff_seconds(attempts, self.config.retry_base_seconds, self.config.retry_max_seconds)
                entry = {"attempt": attempts, "at": now, "outcome": "retry", "code": failure.code,
                         "error": failure.error, "retry_in_seconds": round(wait, 3)}
                operations.append(UpdateOne(match, {
                    "$set": {"status": "queued", "due_at": now + timedelta(seconds=wait), "attempts": attempts,
                             "error": failure.error, "updated_at": now},
                    "$push": {"log": entry}, "$unset": {"claim": "", "claimed_until": ""}}))

        def work(session):
            self.store.deliveries.bulk_write(operations, ordered=False, session=session)
            for event_type, data in events:
                self.outbox.add(session, event_type, data)

        in_transaction(self.db, work)
        if retried:
            log.info("notifier: %d message(s) will be retried", retried)

    def close(self) -> None:
        self.smtp.close()
