"""Every setting is an environment variable with a local default (documented in README.md).

`Settings.from_env()` reads them once; tests build their own with `dataclasses.replace` so
that parallel runs get their own ports, databases and topic namespace.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field, replace

SERVICES = ("registry", "matcher", "scheduler", "notifier", "resources")
LOCAL, PRODUCTION = "local", "production"
OUTBOX_POLL, OUTBOX_CHANGE_STREAM = "poll", "change-stream"
# Values anyone can read in this repository: refused outside a local setting (see refuse_known_secrets).
KNOWN_SECRETS = {"dev-only-insecure-secret", "dev-staff-token", "change-me", "change-me-staff-token", "test-secret",
                 "staff-test-token"}
# Abuse limits on anonymous POSTs when LC_ENV=production and nothing else is set (limits' notation).
PRODUCTION_LIMIT_PER_ADDRESS = "30/hour;200/day"
PRODUCTION_LIMIT_PER_EMAIL = "5/hour;20/day"
DEFAULT_PORTS = {"registry": 8001, "matcher": 8002, "scheduler": 8003, "notifier": 8004, "resources": 8005}


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _parsed(name: str, default, kind, what: str):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise SystemExit(f"{name} must be {what}, got {raw!r}") from exc


def env_int(name: str, default: int) -> int:
    """An integer setting; a malformed value stops the process with a message naming it."""
    return _parsed(name, default, int, "a whole number")


def env_float(name: str, default: float) -> float:
    return _parsed(name, default, float, "a number")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = _env(name, default).strip().lower() or default
    if value not in choices:
        raise SystemExit(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _list(name: str, default: str = "") -> tuple[str, ...]:
    return tuple(item.strip() for item in _env(name, default).split(",") if item.strip())


def _keys(raw: str) -> dict[str, str]:
    """LC_SECRET_KEYS="k2:newsecret,k1:oldsecret": first key signs, all verify."""
    keys: dict[str, str] = {}
    for item in raw.split(","):
        item = item.strip()
        if not item:
            continue
        kid, sep, secret = item.partition(":")
        if not sep or not kid or not secret:
            raise SystemExit("LC_SECRET_KEYS entries must look like kid:secret")
        keys[kid] = secret
    return keys


def _limit(name: str, default: str) -> str:
    """A limits-notation setting ("5/hour;20/day"); `off` (or empty when the default is off) disables."""
    raw = os.environ.get(name)
    value = default if raw is None else raw.strip()
    if value.lower() in ("", "off", "none", "0"):
        return ""
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError as exc:
        raise SystemExit(f"{name} must look like 5/hour or 30/hour;200/day (or off), got {value!r}") from exc
    return value


def _networks(name: str) -> tuple[str, ...]:
    entries = _list(name)
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise SystemExit(f"{name} entries must be IP addresses or networks (10.0.0.0/8), got {entry!r}") from exc
    return entries


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def known_secrets_in_use(settings: "Settings") -> list[str]:
    """The variables whose value is one anyone can read in this repository."""
    named = []
    if any(secret in KNOWN_SECRETS or secret.startswith("change-me") for secret in settings.secret_keys.values()):
        named.append("LC_SECRET_KEYS (or LC_SECRET_KEY)")
    if any(token.rpartition(":")[0] in KNOWN_SECRETS or token in KNOWN_SECRETS or token.startswith("change-me")
           for token in settings.staff_tokens):
        named.append("LC_STAFF_TOKENS")
    return named


def refuse_known_secrets(settings: "Settings", why: str) -> None:
    """Stop the process, naming each variable, when a signing key or staff token is a known default
    and the setting is not local (`why`: LC_ENV=production, or the non-loopback address bound)."""
    named = known_secrets_in_use(settings)
    if named:
        verb = "hold" if len(named) > 1 else "holds"
        raise SystemExit(f"refusing to start ({why}): {' and '.join(named)} still {verb} a default value "
                         "published with the code; set your own secrets (docs/operations.md, deploy/env.example)")


def refuse_known_secrets_when_exposed(settings: "Settings", hosts) -> None:
    """The same check for processes that bind: any address other than loopback is not local."""
    exposed = [host for host in hosts if not is_loopback(host)]
    if exposed:
        refuse_known_secrets(settings, f"listening on {', '.join(exposed)}")


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:9092"
    mongo_uri: str = "mongodb://127.0.0.1:27017/?directConnection=true"
    db_prefix: str = "letsconnect_"
    topic_prefix: str = ""
    partitions: int = 6
    # Topics are transport, not the source of truth, and participant events carry contact data:
    # keep them long enough to outlast a worker outage, not forever (erasure covers the databases).
    topic_retention_hours: int = 168
    smtp_url: str = "smtp://127.0.0.1:2525"
    mail_from: str = "Let's Connect <letsconnect@wikimedia.example>"
    public_base_url: str = "http://127.0.0.1"
    secret_keys: dict[str, str] = field(default_factory=lambda: {"k1": "dev-only-insecure-secret"})
    token_ttl_days: int = 365
    revoked_tokens: tuple[str, ...] = ()
    # Machine clients' bearer tokens, `token` or `token:role` (no role: coordinator).
    staff_tokens: tuple[str, ...] = ("dev-staff-token",)
    staff_token_ttl_hours: int = 12
    portal_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = 1_000_000
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    host: str = "127.0.0.1"
    data_dir: str = ".letsconnect"
    consumer_session_timeout_ms: int = 6000
    # Tansu and Kafka both answer a waiting fetch as soon as a record arrives: a long wait costs no
    # latency and spares idle consumers (and the broker) most of their fetches.
    consumer_fetch_wait_ms: int = 500
    retry_attempts: int = 4
    retry_backoff_ms: int = 200
    outbox_poll_ms: int = 50
    # A polling relay whose reads find nothing waits twice as long each time, up to this; a write
    # in its own process wakes it at once (shared.outbox_wake).
    outbox_idle_poll_ms: int = 250
    # How a relay learns of new outbox rows: `change-stream` (MongoDB pushes each insert; what
    # production runs) or `poll` (a read every outbox_poll_ms, backing off to outbox_idle_poll_ms).
    # SecantusDB wakes every change stream on every write anywhere, which cut its write rate by
    # about three quarters, so the embedded stack polls.
    outbox_wake: str = OUTBOX_POLL
    # How often a worker asks the broker whether it is still the one it published to (a broker
    # that restarted empty is told by a new cluster id or partitions ending below acknowledged offsets).
    broker_check_seconds: float = 5.0
    # How long a stopping worker may take to finish what it has in flight (`letsconnect up` stops it
    # harder after that).
    drain_seconds: float = 20.0
    translators: dict[str, tuple[str, ...]] = field(default_factory=dict)
    worker_metrics_port: int = 0
    environment: str = LOCAL  # LC_ENV: `production` refuses known secrets and turns abuse limits on
    # Abuse limits on anonymous POSTs (registration, sign-in), `limits` notation ("5/hour;20/day");
    # empty: off. Counted per client address and per email address, shared by every API process.
    rate_limit_per_address: str = ""
    rate_limit_per_email: str = ""
    # Reverse proxies whose X-Forwarded-For is believed (addresses or networks); nobody else's is.
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_env(cls) -> "Settings":
        ports = {name: env_int(f"LC_{name.upper()}_PORT", port) for name, port in DEFAULT_PORTS.items()}
        secret_keys = _keys(_env("LC_SECRET_KEYS", ""))
        if not secret_keys:
            secret_keys = {_env("LC_SECRET_KEY_ID", "k1"): _env("LC_SECRET_KEY", "dev-only-insecure-secret")}
        translators: dict[str, tuple[str, ...]] = {}
        for item in _list("LC_TRANSLATORS"):
            lang, _, email = item.partition(":")
            if lang and email:
                translators.setdefault(lang.strip(), ())
                translators[lang.strip()] += (email.strip(),)
        environment = _env("LC_ENV", LOCAL).strip().lower() or LOCAL
        limit_default = {"address": PRODUCTION_LIMIT_PER_ADDRESS, "email": PRODUCTION_LIMIT_PER_EMAIL} \
            if environment == PRODUCTION else {"address": "", "email": ""}
        settings = cls(
            kafka_bootstrap=_env("LC_KAFKA_BOOTSTRAP", cls.kafka_bootstrap),
            mongo_uri=_env("LC_MONGO_URI", cls.mongo_uri),
            db_prefix=_env("LC_DB_PREFIX", cls.db_prefix),
            topic_prefix=_env("LC_TOPIC_PREFIX", cls.topic_prefix),
            partitions=env_int("LC_TOPIC_PARTITIONS", cls.partitions),
            topic_retention_hours=env_int("LC_TOPIC_RETENTION_HOURS", cls.topic_retention_hours),
            smtp_url=_env("LC_SMTP_URL", cls.smtp_url),
            mail_from=_env("LC_MAIL_FROM", cls.mail_from),
            public_base_url=_env("LC_PUBLIC_BASE_URL", cls.public_base_url),
            secret_keys=secret_keys,
            token_ttl_days=env_int("LC_TOKEN_TTL_DAYS", cls.token_ttl_days),
            revoked_tokens=_list("LC_REVOKED_TOKENS"),
            staff_tokens=_list("LC_STAFF_TOKENS", "dev-staff-token"),
            staff_token_ttl_hours=env_int("LC_STAFF_TOKEN_TTL_HOURS", cls.staff_token_ttl_hours),
            portal_url=_env("LC_PORTAL_URL", cls.portal_url).rstrip("/"),
            max_body_bytes=env_int("LC_MAX_BODY_BYTES", cls.max_body_bytes),
            ports=ports,
            host=_env("LC_HOST", cls.host),
            data_dir=_env("LC_DATA_DIR", cls.data_dir),
            consumer_session_timeout_ms=env_int("LC_CONSUMER_SESSION_TIMEOUT_MS", cls.consumer_session_timeout_ms),
            consumer_fetch_wait_ms=env_int("LC_CONSUMER_FETCH_WAIT_MS", cls.consumer_fetch_wait_ms),
            retry_attempts=env_int("LC_RETRY_ATTEMPTS", cls.retry_attempts),
            retry_backoff_ms=env_int("LC_RETRY_BACKOFF_MS", cls.retry_backoff_ms),
            outbox_poll_ms=env_int("LC_OUTBOX_POLL_MS", cls.outbox_poll_ms),
            outbox_idle_poll_ms=env_int("LC_OUTBOX_IDLE_POLL_MS", cls.outbox_idle_poll_ms),
            outbox_wake=env_choice("LC_OUTBOX_WAKE", cls.outbox_wake, (OUTBOX_POLL, OUTBOX_CHANGE_STREAM)),
            broker_check_seconds=env_float("LC_BROKER_CHECK_SECONDS", cls.broker_check_seconds),
            drain_seconds=env_float("LC_DRAIN_SECONDS", cls.drain_seconds),
            translators=translators,
            worker_metrics_port=env_int("LC_WORKER_METRICS_PORT", cls.worker_metrics_port),
            environment=environment,
            rate_limit_per_address=_limit("LC_RATE_LIMIT_PER_ADDRESS", limit_default["address"]),
            rate_limit_per_email=_limit("LC_RATE_LIMIT_PER_EMAIL", limit_default["email"]),
            trusted_proxies=_networks("LC_TRUSTED_PROXIES"),
        )
        if environment == PRODUCTION:
            refuse_known_secrets(settings, "LC_ENV=production")
        return settings

    def machine_tokens(self) -> dict[str, str]:
        """LC_STAFF_TOKENS as {token: role}; an entry without a known role is a coordinator's."""
        from shared.tokens import STAFF_ROLES

        tokens = {}
        for entry in self.staff_tokens:
            secret, _, role = entry.rpartition(":")
            if role in STAFF_ROLES and secret:
                tokens[secret] = role
            else:
                tokens[entry] = "coordinator"
        return tokens

    def database_name(self, service: str) -> str:
        return f"{self.db_prefix}{service}"

    def topic_name(self, event_type: str) -> str:
        return f"{self.topic_prefix}{event_type}"

    def consumer_group(self, service: str) -> str:
        return f"{self.topic_prefix}{service}"

    def service_url(self, service: str) -> str:
        return f"{self.public_base_url}:{self.ports[service]}"

    def with_overrides(self, **changes) -> "Settings":
        return replace(self, **changes)
