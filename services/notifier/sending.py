"""Sends the stored messages over SMTP and records every attempt.

A sender sends the messages its own process's consumers just queued (stored already claimed by
this process, handed over in memory after commit) and, every `scan_seconds`, whatever the
database says is due (retries, or messages whose claim lapsed because a copy died); it sends
them on one kept-open connection, then records all outcomes in one transaction together with the
notification-sent / notification-failed events. Transient failures come back later with
exponential backoff and jitter; permanent ones (5xx) and exhausted retries are failed.

At the SMTP boundary delivery is at-least-once: a crash after the relay accepted a message and
before its outcome is stored sends it again after `claim_seconds`, with the same Message-ID.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from datetime import timedelta
from email.utils import parseaddr

from pymongo import UpdateMany, UpdateOne

from shared import metrics
from shared.mongo import in_transaction
from shared.outbox import Outbox

from services.notifier import SERVICE
from services.notifier.config import NotifierConfig
from services.notifier.notifications import SCRUB, failed_event, notification_event, now_utc
from services.notifier.retry import Failure, backoff_seconds, classify, gives_up
from services.notifier.smtp import SmtpClient
from services.notifier.store import Store

log = logging.getLogger(__name__)


def observe_sent(doc: dict) -> None:
    """The relay accepted a message: how long since the event behind it (lc_notifier_queue_age_seconds)."""
    metrics.SMTP_ATTEMPTS.labels("sent").inc()
    metrics.observe_age(metrics.NOTIFIER_QUEUE_AGE, doc.get("event_time") or doc.get("created_at"), doc["template"])


class Sender:
    def __init__(self, settings, config: NotifierConfig, db, wake: threading.Event | None = None,
                 stop: threading.Event | None = None, handoff: deque | None = None, owner: str | None = None):
        self.settings = settings
        self.config = config
        self.db = db
        self.store = Store(db)
        self.outbox = Outbox(db, SERVICE)
        self.smtp = SmtpClient(settings.smtp_url, timeout=config.smtp_timeout_seconds)
        self.envelope_from = parseaddr(settings.mail_from)[1]
        self.wake = wake or threading.Event()
        self.stop = stop or threading.Event()
        self.handoff = handoff if handoff is not None else deque()
        self.owner = owner or uuid.uuid4().hex
        self._next_scan = 0.0
        # outcomes wait here for the delivery-log thread, so SMTP never idles on the database
        self.outcomes: queue.Queue[list] = queue.Queue()

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
                observe_sent(doc)
            except Exception as exc:  # every failure is classified and recorded, none stops the loop
                failure = classify(exc)
                outcomes.append((doc, failure))
                metrics.SMTP_ATTEMPTS.labels("transient" if failure.transient else "permanent").inc()
        self.outcomes.put(outcomes)
        return len(batch)

    def record_pending(self, wait: float = 0.5) -> int:
        """The delivery-log thread (a PeriodicJob): store every outcome waiting, in one transaction."""
        batch: list = []
        try:
            batch.extend(self.outcomes.get(timeout=wait) if wait else self.outcomes.get_nowait())
            while True:
                batch.extend(self.outcomes.get_nowait())
        except queue.Empty:
            pass
        if not batch:
            return 0
        try:
            self._record(batch)
        except Exception:  # keep them for the next round: an unrecorded send would be sent again
            self.outcomes.put(batch)
            log.exception("notifier: recording %d outcomes failed; will retry", len(batch))
            self.stop.wait(1.0)
            return 0
        return len(batch)

    send_due = send_round

    def _claim(self, free: list[str], stale: list[dict]) -> list[dict]:
        now = now_utc()
        claim = f"{self.owner}:{uuid.uuid4().hex[:8]}"
        mark = {"$set": {"claim": claim, "claimed_until": now + timedelta(seconds=self.config.claim_seconds)}}
        if free:
            self.store.deliveries.update_many({"_id": {"$in": free}, "status": "queued", "claim": None}, mark)
        for doc in stale:  # claimed by a copy that died (or fell far behind): rare, one at a time
            self.store.deliveries.update_one({"_id": doc["_id"], "status": "queued", "claim": doc.get("claim")}, mark)
        ids = free + [doc["_id"] for doc in stale]
        if not ids:
            return []
        return list(self.store.deliveries.find({"_id": {"$in": ids}, "claim": claim}).sort("due_at", 1))

    def _claim_handed_off(self) -> list[dict]:
        """Messages this process's consumers queued: claimed when stored, nothing to read back."""
        now = now_utc()
        margin = timedelta(seconds=min(10.0, self.config.claim_seconds / 4))
        batch = []
        while self.handoff and len(batch) < self.config.send_batch:
            doc = self.handoff.popleft()
            if doc["claimed_until"] - margin > now:  # else its claim lapses: the scan takes it over
                batch.append(doc)
        if not batch:
            return []
        # still ours and still wanted? (a withdrawal may have cancelled one meanwhile)
        claims = {doc["_id"]: doc["claim"] for doc in batch}
        rows = self.store.deliveries.find({"_id": {"$in": list(claims)}, "status": "queued"}, {"_id": 1, "claim": 1})
        still_ours = {row["_id"] for row in rows if row.get("claim") == claims[row["_id"]]}
        return [doc for doc in batch if doc["_id"] in still_ours]

    def _claim_due(self) -> list[dict]:
        now = now_utc()
        free = [doc["_id"] for doc in self.store.deliveries.find(
            {"status": "queued", "claim": None, "due_at": {"$lte": now}}, {"_id": 1})
            .sort("due_at", 1).limit(self.config.send_batch)]
        stale = list(self.store.deliveries.find({"status": "queued", "claimed_until": {"$lt": now}},
                                                {"_id": 1, "claim": 1}).limit(self.config.send_batch))
        return self._claim(free, stale)

    def _record(self, outcomes: list[tuple[dict, Failure | None]]) -> None:
        now = now_utc()
        operations, events = [], []
        sent_by_claim: dict[tuple[int, str], list[dict]] = {}
        retried = 0
        for doc, failure in outcomes:
            attempts = int(doc.get("attempts", 0)) + 1
            current = {**doc, "attempts": attempts}
            match = {"_id": doc["_id"], "claim": doc["claim"]}
            if failure is None:
                sent_by_claim.setdefault((attempts, doc["claim"]), []).append(doc)
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
        for (attempts, claim), docs in sent_by_claim.items():  # usually one update for a whole batch
            entry = {"attempt": attempts, "at": now, "outcome": "sent", "code": 250, "error": None}
            operations.append(UpdateMany(
                {"_id": {"$in": [doc["_id"] for doc in docs]}, "claim": claim},
                {"$set": {"status": "sent", "sent_at": now, "attempts": attempts, "updated_at": now},
                 "$push": {"log": entry}, "$unset": {**SCRUB, "error": ""}}))

        def work(session):
            self.store.deliveries.bulk_write(operations, ordered=False, session=session)
            self.outbox.add_many(session, events)

        in_transaction(self.db, work)
        if retried:
            log.info("notifier: %d message(s) will be retried", retried)

    def close(self) -> None:
        self.smtp.close()
