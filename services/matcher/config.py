"""The matcher's settings (LC_MATCHER_*), with local defaults."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from shared.config import env_float, env_int

from services.matcher.domain.rounds import valid_schedule

DEFAULT_WEIGHTS = {"language": 1.0, "overlap": 1.0, "waiting": 1.0, "load": 1.0, "rare_sharer": 1.0,
                   "region": 1.0}


@dataclass(frozen=True)
class MatcherConfig:
    day_start_hour: int = 8
    day_end_hour: int = 21
    min_overlap_minutes: int = 60
    sharer_capacity: int = 3
    cooldown_days: int = 90
    response_days: int = 7
    expiry_check_seconds: int = 300
    proposal_threshold: float = 2.0
    candidates_per_learner: int = 25
    exact_edges: int = 1500
    round_batch: int = 200  # proposals written per transaction in a round
    round_lease_seconds: float = 60.0  # a worker renews its round's lease every third of this
    round_poll_seconds: float = 1.0  # how often an idle worker looks for a requested round
    round_attempts: int = 3  # a round that failed this often is given up
    round_schedule: str = ""  # cron expression (UTC) of the scheduled rounds; empty: none
    schedule_check_seconds: float = 30.0
    schedule_grace_minutes: int = 1440  # a scheduled time missed by more than this is skipped
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @classmethod
    def from_env(cls) -> "MatcherConfig":
        weights = dict(DEFAULT_WEIGHTS)
        try:
            weights.update(json.loads(os.environ.get("LC_MATCHER_WEIGHTS", "{}") or "{}"))
        except (ValueError, TypeError) as exc:
            raise SystemExit(f"LC_MATCHER_WEIGHTS must be a JSON object of weights: {exc}") from exc
        schedule = os.environ.get("LC_MATCHER_ROUND_SCHEDULE", "").strip()
        if not valid_schedule(schedule):
            raise SystemExit(f"LC_MATCHER_ROUND_SCHEDULE is not a cron expression (minute hour day month weekday, "
                             f"UTC; e.g. '0 14 * * 1#1' for the first Monday at 14:00): {schedule!r}")
        return cls(
            day_start_hour=env_int("LC_MATCHER_DAY_START_HOUR", cls.day_start_hour),
            day_end_hour=env_int("LC_MATCHER_DAY_END_HOUR", cls.day_end_hour),
            min_overlap_minutes=env_int("LC_MATCHER_MIN_OVERLAP_MINUTES", cls.min_overlap_minutes),
            sharer_capacity=env_int("LC_MATCHER_SHARER_CAPACITY", cls.sharer_capacity),
            cooldown_days=env_int("LC_MATCHER_COOLDOWN_DAYS", cls.cooldown_days),
            response_days=env_int("LC_MATCHER_RESPONSE_DAYS", cls.response_days),
            expiry_check_seconds=env_int("LC_MATCHER_EXPIRY_CHECK_SECONDS", cls.expiry_check_seconds),
            proposal_threshold=env_float("LC_MATCHER_PROPOSAL_THRESHOLD", cls.proposal_threshold),
            candidates_per_learner=env_int("LC_MATCHER_CANDIDATES_PER_LEARNER", cls.candidates_per_learner),
            exact_edges=env_int("LC_MATCHER_EXACT_EDGES", cls.exact_edges),
            round_batch=env_int("LC_MATCHER_ROUND_BATCH", cls.round_batch),
            round_lease_seconds=env_float("LC_MATCHER_ROUND_LEASE_SECONDS", cls.round_lease_seconds),
            round_poll_seconds=env_float("LC_MATCHER_ROUND_POLL_SECONDS", cls.round_poll_seconds),
            round_attempts=env_int("LC_MATCHER_ROUND_ATTEMPTS", cls.round_attempts),
            round_schedule=schedule,
            schedule_check_seconds=env_float("LC_MATCHER_SCHEDULE_CHECK_SECONDS", cls.schedule_check_seconds),
            schedule_grace_minutes=env_int("LC_MATCHER_SCHEDULE_GRACE_MINUTES", cls.schedule_grace_minutes),
            weights=weights,
        )
