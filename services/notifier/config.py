"""The notifier's own settings (LC_NOTIFIER_*), next to the shared `Settings`.

Tests and the benchmark build a `NotifierConfig(...)` directly; processes read the environment.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace

from shared.config import env_float


@dataclass(frozen=True)
class NotifierConfig:
    max_attempts: int = 6                  # SMTP attempts per message before it is recorded as failed
    retry_base_seconds: float = 30.0       # first retry after about this long, doubling each time
    retry_max_seconds: float = 3600.0      # no wait between attempts longer than this
    smtp_timeout_seconds: float = 10.0     # one SMTP conversation step never blocks longer
    park_seconds: float = 72 * 3600        # how long an event for an unknown participant waits
    digest_period_seconds: float = 7 * 86400  # resource digest: at most one per person per period
    digest_check_seconds: float = 600      # how often the worker looks for digests that are due
    send_batch: int = 100                  # messages claimed by the sender at a time
    claim_seconds: float = 120             # a claimed message left unsent this long is claimed again
    scan_seconds: float = 1.0              # how often the sender looks in the database for due messages
    switch_interval_ms: float = 1.0        # GIL switch interval of the worker process (Python's default: 5)
    template_dirs: tuple[str, ...] = field(default_factory=tuple)  # override templates (first wins)
    # the program team's addresses: told when a clinic's language still has no interpreter
    program_team: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def from_env(cls) -> "NotifierConfig":
        dirs = tuple(d for d in os.environ.get("LC_NOTIFIER_TEMPLATE_DIRS", "").split(os.pathsep) if d)
        return cls(
            max_attempts=int(env_float("LC_NOTIFIER_MAX_ATTEMPTS", cls.max_attempts)),
            retry_base_seconds=env_float("LC_NOTIFIER_RETRY_BASE_SECONDS", cls.retry_base_seconds),
            retry_max_seconds=env_float("LC_NOTIFIER_RETRY_MAX_SECONDS", cls.retry_max_seconds),
            smtp_timeout_seconds=env_float("LC_NOTIFIER_SMTP_TIMEOUT_SECONDS", cls.smtp_timeout_seconds),
            park_seconds=env_float("LC_NOTIFIER_PARK_SECONDS", cls.park_seconds),
            digest_period_seconds=env_float("LC_NOTIFIER_DIGEST_PERIOD_SECONDS", cls.digest_period_seconds),
            digest_check_seconds=env_float("LC_NOTIFIER_DIGEST_CHECK_SECONDS", cls.digest_check_seconds),
            send_batch=int(env_float("LC_NOTIFIER_SEND_BATCH", cls.send_batch)),
            claim_seconds=env_float("LC_NOTIFIER_CLAIM_SECONDS", cls.claim_seconds),
            scan_seconds=env_float("LC_NOTIFIER_SCAN_SECONDS", cls.scan_seconds),
            switch_interval_ms=env_float("LC_NOTIFIER_SWITCH_INTERVAL_MS", cls.switch_interval_ms),
            template_dirs=dirs,
            program_team=tuple(a.strip() for a in os.environ.get("LC_NOTIFIER_PROGRAM_TEAM", "").split(",")
                               if a.strip()),
        )

    def with_overrides(self, **changes) -> "NotifierConfig":
        return replace(self, **changes)
