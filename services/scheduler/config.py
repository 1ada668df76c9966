"""The scheduler's own settings (LC_SCHEDULER_*), next to the shared `Settings`.

Tests and the benchmark build a `SchedulerConfig(...)` directly; processes read the environment.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from datetime import timedelta

from shared.config import env_float

from services.scheduler.domain.funding import Deadline, parse

# An example funding cycle to replace with the current one (LC_SCHEDULER_FUNDING_CALENDAR): the
# general support funds' proposal and report deadlines, every year on these days.
DEFAULT_FUNDING_CALENDAR = [
    {"kind": "proposal", "date": "03-01", "label": "General Support Fund proposals (first round)"},
    {"kind": "proposal", "date": "10-01", "label": "General Support Fund proposals (second round)"},
    {"kind": "report", "date": "01-31", "label": "Midpoint reports"},
    {"kind": "report", "date": "07-31", "label": "Final reports"},
]


def funding_calendar(raw: str | None) -> list[Deadline]:
    """LC_SCHEDULER_FUNDING_CALENDAR: a JSON list of {kind: proposal|report, date: MM-DD (every year)
    or YYYY-MM-DD (once), label, regions (optional)}; a malformed value stops the process."""
    if not raw:
        return parse(DEFAULT_FUNDING_CALENDAR)
    try:
        entries = json.loads(raw)
        if not isinstance(entries, list):
            raise ValueError("must be a JSON list")
        return parse(entries)
    except ValueError as exc:
        raise SystemExit(f"LC_SCHEDULER_FUNDING_CALENDAR: {exc}") from exc


@dataclass(frozen=True)
class SchedulerConfig:
    reminder_seconds: float = 60.0           # how often the worker looks for due reminders and warnings
    interpreter_warning_hours: float = 72.0  # staff and attendees are told when a language still has
                                             # no interpreter this long before the slot
    funding_calendar: tuple[Deadline, ...] = field(default_factory=lambda: tuple(funding_calendar(None)))

    @property
    def warn_before(self) -> timedelta:
        return timedelta(hours=self.interpreter_warning_hours)

    @classmethod
    def from_env(cls) -> "SchedulerConfig":
        return cls(reminder_seconds=env_float("LC_SCHEDULER_REMINDER_SECONDS", cls.reminder_seconds),
                   interpreter_warning_hours=env_float("LC_SCHEDULER_INTERPRETER_WARNING_HOURS",
                                                       cls.interpreter_warning_hours),
                   funding_calendar=tuple(funding_calendar(os.environ.get("LC_SCHEDULER_FUNDING_CALENDAR"))))

    def with_overrides(self, **changes) -> "SchedulerConfig":
        return replace(self, **changes)
