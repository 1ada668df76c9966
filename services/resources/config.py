"""The resources service's own settings: none yet beyond the shared ones (shared.config.Settings).
A setting of its own would be LC_RESOURCES_<NAME>, read here and documented in docs/services/resources.md."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourcesConfig:
    @classmethod
    def from_env(cls) -> "ResourcesConfig":
        return cls()
