"""The scheduler's own settings (LC_SCHEDULER_*), next to the shared `Settings`.

Tests and the benchmark build a `SchedulerConfig(...)` directly; processes read the environment.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from shared.config import env_float


@dataclass(frozen=True)
class SchedulerConfig:
    reminder_seconds: float = 60.0  # how often the worker looks for due reminders

    @classmethod
    def from_env(cls) -> "SchedulerConfig":
        return cls(reminder_seconds=env_float("LC_SCHEDULER_REMINDER_SECONDS", cls.reminder_seconds))

    def with_overrides(self, **changes) -> "SchedulerConfig":
        return replace(self, **changes)
