"""Abuse limits on anonymous POSTs (registration, sign-in requests): per client address and per
email address, counted in MongoDB so every API process (and every copy behind a load balancer)
shares them.

The counting is the `limits` library's (the engine of flask-limiter): its moving-window strategy
on its MongoDB storage, in the service's own database (collections `rate_limit_counters` and
`rate_limit_windows`, entries expiring by themselves). Keys are keyed hashes, never the address
itself, so no personal data lands there.

Settings (shared.config): LC_RATE_LIMIT_PER_ADDRESS, LC_RATE_LIMIT_PER_EMAIL (off unless set,
or LC_ENV=production), LC_TRUSTED_PROXIES (whose X-Forwarded-For is believed).
The Flask guard that answers 429 with Retry-After is shared.web.limit_anonymous.
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import threading
import time
from functools import lru_cache
from typing import Iterable

from limits import RateLimitItem, parse_many
from limits.storage import MongoDBStorage
from limits.strategies import MovingWindowRateLimiter

from shared.config import Settings
from shared.mongo import client_for

COUNTERS, WINDOWS = "rate_limit_counters", "rate_limit_windows"


class _SharedClientStorage(MongoDBStorage):
    """The limits storage on this process's one MongoDB client (shared.mongo), which it neither
    opens nor closes: the library's own closes its client in __del__, and at interpreter exit
    that waits forever on a lock held by a monitor thread that no longer runs."""

    def _init_mongo_client(self, uri, **options):
        return client_for(uri)

    def __del__(self) -> None:
        pass


class RateLimited(Exception):
    def __init__(self, retry_after: int, what: str):
        super().__init__(f"too many requests {what}; try again in {retry_after} s")
        self.retry_after = retry_after
        self.what = what


@lru_cache(maxsize=64)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Iterable[str]) -> str:
    """The address a request came from. X-Forwarded-For counts only when the peer is a trusted
    proxy; then the client is the nearest hop that is not one (anything to its left was written
    by the client itself and proves nothing)."""
    trusted = _networks(tuple(trusted_proxies))
    peer_address = _address(peer or "")
    if peer_address is None:
        return peer or "unknown"
    if not forwarded_for or not any(peer_address in network for network in trusted):
        return str(peer_address)
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return str(peer_address)  # a proxy wrote something that is not an address: believe nobody
        if not any(address in network for network in trusted):
            return str(address)
    return str(_address(hops[0])) if hops else str(peer_address)


class AbuseLimits:
    """One per API process; `hit` counts a request and raises RateLimited past a limit."""

    def __init__(self, settings: Settings, database_name: str):
        self.per_address: list[RateLimitItem] = parse_many(settings.rate_limit_per_address) \
            if settings.rate_limit_per_address else []
        self.per_email: list[RateLimitItem] = parse_many(settings.rate_limit_per_email) \
            if settings.rate_limit_per_email else []
        self.trusted_proxies = settings.trusted_proxies
        self._pepper = next(iter(settings.secret_keys.values())).encode("utf-8")
        self._uri = settings.mongo_uri
        self._database_name = database_name
        self._limiter: MovingWindowRateLimiter | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.per_address or self.per_email)

    def _strategy(self) -> MovingWindowRateLimiter:
        with self._lock:
            if self._limiter is None:
                storage = _SharedClientStorage(self._uri, database_name=self._database_name,
                                               counter_collection_name=COUNTERS, window_collection_name=WINDOWS)
                self._limiter = MovingWindowRateLimiter(storage)
            return self._limiter

    def _key(self, kind: str, value: str) -> str:
        return hmac.new(self._pepper, f"{kind}:{value}".encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def hit(self, action: str, address: str, email: str | None = None) -> None:
        """Count one `action` from `address` (and for `email`); RateLimited when either is over."""
        checks = [(item, "address", address.lower(), "from this address") for item in self.per_address]
        if email:
            checks += [(item, "email", email.strip().casefold(), "for this email address") for item in self.per_email]
        if not checks:
            return
        limiter = self._strategy()
        for item, kind, value, what in checks:
            identity = (action, kind, self._key(kind, value))
            if not limiter.hit(item, *identity):
                reset = limiter.get_window_stats(item, *identity).reset_time
                raise RateLimited(max(1, math.ceil(reset - time.time())), what)
