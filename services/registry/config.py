"""The registry's own settings (LC_REGISTRY_*); the shared ones are in shared.config.Settings."""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import env_float


@dataclass(frozen=True)
class RegistryConfig:
    # Staff-added topics are cached this long per API process; an unknown code reads them afresh.
    topics_cache_seconds: float = 5.0

    @classmethod
    def from_env(cls) -> "RegistryConfig":
        return cls(
            topics_cache_seconds=env_float("LC_REGISTRY_TOPICS_CACHE_SECONDS", cls.topics_cache_seconds),
        )
