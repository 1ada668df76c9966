"""The registry's own settings (LC_REGISTRY_*); the shared ones are in shared.config.Settings."""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import env_float, env_int


@dataclass(frozen=True)
class RegistryConfig:
    # A session opened with an emailed sign-in link lasts this long (the portal's cookie holds it);
    # "sign me out everywhere" (POST /participants/{id}/token) ends every session at once.
    session_days: int = 30
    # Staff-added topics are cached this long per API process; an unknown code reads them afresh.
    topics_cache_seconds: float = 5.0
    # How often the worker deletes sign-in requests past their expiry.
    sign_in_purge_seconds: float = 300.0

    @classmethod
    def from_env(cls) -> "RegistryConfig":
        return cls(
            session_days=env_int("LC_REGISTRY_SESSION_DAYS", cls.session_days),
            topics_cache_seconds=env_float("LC_REGISTRY_TOPICS_CACHE_SECONDS", cls.topics_cache_seconds),
            sign_in_purge_seconds=env_float("LC_REGISTRY_SIGN_IN_PURGE_SECONDS", cls.sign_in_purge_seconds),
        )
