"""The matcher's settings (LC_MATCHER_*), with local defaults."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

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
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))

    @classmethod
    def from_env(cls) -> "MatcherConfig":
        def number(name, default, kind=int):
            raw = os.environ.get(name)
            return kind(raw) if raw not in (None, "") else default

        weights = dict(DEFAULT_WEIGHTS)
        weights.update(json.loads(os.environ.get("LC_MATCHER_WEIGHTS", "{}") or "{}"))
        return cls(
            day_start_hour=number("LC_MATCHER_DAY_START_HOUR", cls.day_start_hour),
            day_end_hour=number("LC_MATCHER_DAY_END_HOUR", cls.day_end_hour),
            min_overlap_minutes=number("LC_MATCHER_MIN_OVERLAP_MINUTES", cls.min_overlap_minutes),
            sharer_capacity=number("LC_MATCHER_SHARER_CAPACITY", cls.sharer_capacity),
            cooldown_days=number("LC_MATCHER_COOLDOWN_DAYS", cls.cooldown_days),
            response_days=number("LC_MATCHER_RESPONSE_DAYS", cls.response_days),
            expiry_check_seconds=number("LC_MATCHER_EXPIRY_CHECK_SECONDS", cls.expiry_check_seconds),
            proposal_threshold=number("LC_MATCHER_PROPOSAL_THRESHOLD", cls.proposal_threshold, float),
            candidates_per_learner=number("LC_MATCHER_CANDIDATES_PER_LEARNER", cls.candidates_per_learner),
            exact_edges=number("LC_MATCHER_EXACT_EDGES", cls.exact_edges),
            weights=weights,
        )
