"""The portal's own settings (LC_PORTAL_*), next to the shared `Settings`.

The portal owns no program data: it needs only where the services' APIs are, how long to wait
for them, and a key for its own cookie (the CSRF token lives there). Tests build a
`PortalConfig(...)` directly; processes read the environment.
"""
from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, field, replace

from shared.config import SERVICES, Settings, env_float, env_int

DEFAULT_PORT = 8000


API_URL_VARIABLES = {"registry": "LC_REGISTRY_API_URL", "matcher": "LC_MATCHER_API_URL",
                     "scheduler": "LC_SCHEDULER_API_URL", "notifier": "LC_NOTIFIER_API_URL",
                     "resources": "LC_RESOURCES_API_URL"}


def _api_urls(settings: Settings) -> dict[str, str]:
    """LC_<SERVICE>_API_URL, else the service on this host at its LC_<SERVICE>_PORT."""
    host = settings.host if settings.host not in ("", "0.0.0.0") else "127.0.0.1"
    return {service: os.environ.get(API_URL_VARIABLES[service], f"http://{host}:{settings.ports[service]}").rstrip("/")
            for service in SERVICES}


def _derived_secret(settings: Settings) -> str:
    """A cookie key of the portal's own, derived from the platform's signing key so that every
    gunicorn worker (and every replica) agrees without one more secret to configure."""
    kid, secret = next(iter(settings.secret_keys.items()))
    return hmac.new(secret.encode(), f"portal-cookie:{kid}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class PortalConfig:
    port: int = DEFAULT_PORT
    # Where the five APIs answer, as the portal's server reaches them (in containers: http://registry-api:8001).
    api_urls: dict[str, str] = field(default_factory=dict)
    connect_timeout_seconds: float = 2.0    # a service that does not accept the connection by then is down
    read_timeout_seconds: float = 10.0      # a page never waits longer than this for one answer
    secret_key: str = "dev-only-portal-cookie-key"
    secure_cookies: bool = False            # Secure cookies: on when the portal is served over https
    taxonomy_cache_seconds: float = 60.0    # topics change rarely; every page shows their labels
    listing_cache_seconds: float = 5.0      # the clinics listing (seats left) may be this old; a clinic's page never
    page_size: int = 20                     # directory, clinics and resources per page

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> "PortalConfig":
        settings = settings or Settings.from_env()
        secure = os.environ.get("LC_PORTAL_SECURE_COOKIES", "")
        return cls(
            port=env_int("LC_PORTAL_PORT", DEFAULT_PORT),
            api_urls=_api_urls(settings),
            connect_timeout_seconds=env_float("LC_PORTAL_CONNECT_TIMEOUT_SECONDS", cls.connect_timeout_seconds),
            read_timeout_seconds=env_float("LC_PORTAL_READ_TIMEOUT_SECONDS", cls.read_timeout_seconds),
            secret_key=os.environ.get("LC_PORTAL_SECRET_KEY") or _derived_secret(settings),
            secure_cookies=(secure.lower() in ("1", "true", "yes") if secure
                            else settings.portal_url.startswith("https://")),
            taxonomy_cache_seconds=env_float("LC_PORTAL_TAXONOMY_CACHE_SECONDS", cls.taxonomy_cache_seconds),
            listing_cache_seconds=env_float("LC_PORTAL_LISTING_CACHE_SECONDS", cls.listing_cache_seconds),
            page_size=env_int("LC_PORTAL_PAGE_SIZE", cls.page_size),
        )

    def with_overrides(self, **changes) -> "PortalConfig":
        return replace(self, **changes)
