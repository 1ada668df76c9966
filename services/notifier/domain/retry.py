"""SMTP outcomes: which failures are worth another try, and when (pure functions)."""
from __future__ import annotations

import random
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable


@dataclass(frozen=True)
class Failure:
    transient: bool
    code: int | None
    error: str


def classify(exc: BaseException) -> Failure:
    """4xx replies and network trouble are transient; 5xx replies are permanent."""
    code = None
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [reply[0] for reply in exc.recipients.values()]
        code = max(codes) if codes else None
        text = "; ".join(f"{addr}: {reply[0]} {_text(reply[1])}" for addr, reply in exc.recipients.items())
        error = f"recipient refused: {text}"
    elif isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        error = f"{type(exc).__name__}: {code} {_text(exc.smtp_error)}"
    elif isinstance(exc, smtplib.SMTPNotSupportedError):
        return Failure(transient=False, code=None, error=f"{type(exc).__name__}: {exc}")
    else:  # refused or dropped connections, timeouts, DNS: the relay may be back soon
        return Failure(transient=True, code=None, error=f"{type(exc).__name__}: {exc}")
    transient = code is None or not 500 <= code < 600
    return Failure(transient=transient, code=code, error=error[:500])


def _text(raw) -> str:
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "replace")
    return str(raw)


def backoff_seconds(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Wait before attempt `attempt + 1`: exponential from `base`, capped, with +/-50% jitter."""
    exponential = min(cap, base * (2 ** max(0, attempt - 1)))
    return exponential * (0.5 + rand())


def gives_up(failure: Failure, attempts: int, max_attempts: int) -> bool:
    return not failure.transient or attempts >= max_attempts


@dataclass(frozen=True)
class Outcome:
    """What one SMTP attempt means for its message: sent, retry (after `wait` seconds) or failed
    (`reason`, `permanent`)."""

    status: str
    attempts: int
    failure: Failure | None = None
    wait: float = 0.0
    reason: str = ""

    @property
    def permanent(self) -> bool:
        return self.failure is not None and not self.failure.transient

    def due_at(self, now: datetime) -> datetime:
        """When a retried message is due again."""
        return now + timedelta(seconds=self.wait)

    def log_entry(self, at: datetime) -> dict:
        if self.status == "sent":
            return {"attempt": self.attempts, "at": at, "outcome": "sent", "code": 250, "error": None}
        entry = {"attempt": self.attempts, "at": at, "outcome": self.status, "code": self.failure.code,
                 "error": self.failure.error}
        if self.status == "retry":
            entry["retry_in_seconds"] = round(self.wait, 3)
        return entry


def outcome_of(failure: Failure | None, attempts: int, max_attempts: int, base: float, cap: float,
               rand: Callable[[], float] = random.random) -> Outcome:
    """The attempt numbered `attempts` ended with `failure` (None: the relay accepted it)."""
    if failure is None:
        return Outcome("sent", attempts)
    if gives_up(failure, attempts, max_attempts):
        reason = failure.error if not failure.transient else f"gave up after {attempts} attempts: {failure.error}"
        return Outcome("failed", attempts, failure, reason=reason)
    return Outcome("retry", attempts, failure, wait=backoff_seconds(attempts, base, cap, rand))
