"""Signed tokens every service verifies without a call: who the bearer is, what they may do, until when.

Three kinds (DESIGN.md section 8):

- participant (a session): full rights over the participant's own data. Returned at registration
  and by the emailed sign-in link; never put in an email or a URL.
- link: one action for one person on one thing (respond to this match, feedback for this clinic,
  change my mail preferences ...), with an expiry suited to the action. What email links carry.
- staff: a named staff account with its roles (coordinator, working_group, ambassador, translator).

Machine clients use bearer tokens from LC_STAFF_TOKENS instead (`token:role`, see shared.config).

A token is `lc1.<payload>.<signature>`: the payload is base64url JSON {typ, sub, iat, exp, kid, jti}
plus `scope` and `res` for a link and `roles` for staff; the signature is HMAC-SHA256 with the key
named by `kid`. Keys rotate (LC_SECRET_KEYS: the first signs, all verify), a single token is revoked
by its `jti` (LC_REVOKED_TOKENS), and all of a subject's older tokens by the `valid_after` time its
owner service publishes (a reissue, an erasure, a role change). `iat` keeps microseconds, so a token
issued in the same second as a reissue, but before it, is refused too.

Nothing here knows Flask: shared.auth wraps it for the routes.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from shared.config import Settings

PREFIX = "lc1"
MAX_TOKEN_LENGTH = 4096
CLOCK_SKEW_SECONDS = 300

PARTICIPANT, LINK, STAFF, MACHINE = "participant", "link", "staff", "machine"
STAFF_ROLES = ("coordinator", "working_group", "ambassador", "translator")
DAY = 86400


@dataclass(frozen=True)
class Scope:
    name: str
    ttl_seconds: int
    action: str  # the one thing a link with this scope lets its bearer do (docs/security.md)


# Every scope a link may carry: the resource (`res`) it names, and how long the link lives.
SCOPES: dict[str, Scope] = {scope.name: scope for scope in (
    Scope("signin", 30 * 60, "exchange an emailed sign-in link for a session, once (res: the sign-in request)"),
    Scope("match.respond", 14 * DAY, "accept or decline this proposed connection (res: the match)"),
    Scope("match.outcome", 120 * DAY, "write the summary of this connection, ask for interpretation (res: the match)"),
    Scope("connection.confirm", 14 * DAY, "confirm a self-made connection that names you (res: the connection)"),
    Scope("clinic.register", 60 * DAY, "book, change or cancel your own seat at this clinic (res: the clinic)"),
    Scope("clinic.feedback", 60 * DAY, "give feedback on this clinic, once (res: the clinic)"),
    Scope("clinic.present", 60 * DAY, "read the presenter's view of this clinic (res: the clinic)"),
    Scope("interpretation.respond", 30 * DAY, "accept or decline interpreting (res: the interpretation request)"),
    Scope("preferences", 365 * DAY, "change which mail you receive, unsubscribe (res: the participant)"),
    Scope("calendar.feed", 365 * DAY, "read your personal calendar feed (res: the participant)"),
)}


class TokenError(Exception):
    """The token does not verify (401)."""


class SubjectErased(TokenError):
    """The token verifies but its participant has been erased (410)."""


@dataclass(frozen=True)
class Principal:
    """The verified bearer of a request."""

    kind: str                       # participant | link | staff | machine
    subject: str                    # participant id, staff account id, or the machine token's role
    roles: frozenset[str] = field(default_factory=frozenset)
    scope: str | None = None
    resource: str | None = None
    token_id: str | None = None
    issued_at: float = 0.0

    @property
    def is_staff(self) -> bool:
        return self.kind in (STAFF, MACHINE)

    def has_role(self, *roles: str) -> bool:
        """A staff member with any of `roles`; a coordinator may do everything."""
        return self.is_staff and ("coordinator" in self.roles or any(role in self.roles for role in roles))

    def is_participant(self, participant_id: str) -> bool:
        """The participant themself, with their session token."""
        return self.kind == PARTICIPANT and self.subject == participant_id

    def holds_link(self, scope: str, resource: str, participant_id: str | None = None) -> bool:
        """A link token for exactly this action on exactly this thing (and this person, when named)."""
        return (self.kind == LINK and self.scope == scope and self.resource == resource
                and (participant_id is None or self.subject == participant_id))


@dataclass(frozen=True)
class SubjectStatus:
    """What a service knows of a token subject from its owner's events."""

    valid_after: float | None = None  # tokens issued before this (epoch seconds) are refused
    erased: bool = False              # a withdrawn participant or a removed staff account


StatusLookup = Callable[[str, str], "SubjectStatus | None"]  # (kind, subject) -> status


def epoch(value: str | datetime | float | int | None) -> float | None:
    """An ISO 8601 time (as the events carry it), a datetime or epoch seconds, as epoch seconds."""
    if value is None or isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.timestamp()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), message.encode("ascii"), hashlib.sha256).digest())


def _now(now: float | None) -> float:
    return round(time.time() if now is None else now, 6)


def _issue(settings: Settings, payload: dict) -> str:
    key_id, secret = next(iter(settings.secret_keys.items()))
    payload = {**payload, "kid": key_id, "jti": secrets.token_urlsafe(9)}
    body = f"{PREFIX}.{_b64(json.dumps(payload, separators=(',', ':')).encode('utf-8'))}"
    return f"{body}.{_sign(secret, body)}"


def issue_participant_token(settings: Settings, participant_id: str, now: float | None = None,
                            ttl_seconds: int | None = None) -> str:
    """A session: the participant's full rights over their own data. Never for an email or a URL."""
    issued = _now(now)
    ttl = ttl_seconds if ttl_seconds is not None else settings.token_ttl_days * DAY
    return _issue(settings, {"typ": PARTICIPANT, "sub": participant_id, "iat": issued, "exp": int(issued + ttl)})


def issue_link_token(settings: Settings, subject: str, scope: str, resource: str, now: float | None = None,
                     expires_at: float | None = None) -> str:
    """A link for one action (`scope`) by `subject` on `resource`; expires with the scope's lifetime,
    or earlier at `expires_at` (a proposal's own expiry, say)."""
    spec = SCOPES[scope]
    issued = _now(now)
    expiry = issued + spec.ttl_seconds
    if expires_at is not None:
        expiry = min(expiry, expires_at)
    return _issue(settings, {"typ": LINK, "sub": subject, "scope": scope, "res": resource, "iat": issued,
                             "exp": int(expiry)})


def issue_staff_token(settings: Settings, staff_id: str, roles, now: float | None = None,
                      ttl_seconds: int | None = None) -> str:
    issued = _now(now)
    ttl = ttl_seconds if ttl_seconds is not None else settings.staff_token_ttl_hours * 3600
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown:
        raise ValueError(f"unknown staff roles {sorted(unknown)}")
    return _issue(settings, {"typ": STAFF, "sub": staff_id, "roles": sorted(set(roles)), "iat": issued,
                             "exp": int(issued + ttl)})


def _claims(token: str) -> tuple[dict, str, str]:
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        raise TokenError("malformed token")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenError("not a Let's Connect token")
    try:
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise TokenError("malformed token") from exc
    if not isinstance(payload, dict):
        raise TokenError("malformed token")
    return payload, f"{parts[0]}.{parts[1]}", parts[2]


def _field(payload: dict, name: str, kind):
    value = payload.get(name)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        if not (0 <= value < 10 ** 11):
            raise TokenError("malformed token")
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TokenError("malformed token")
    if kind is float and not (0 <= value < 1e11):
        raise TokenError("malformed token")
    if kind is str and not (0 < len(value) <= 200):
        raise TokenError("malformed token")
    return value


def verify_token(settings: Settings, token: str, now: float | None = None,
                 status: StatusLookup | None = None) -> Principal:
    """The bearer of `token`, or TokenError: signature, key, expiry, revocation, and (through
    `status`, the service's read model of its subjects) reissue and erasure, the same everywhere."""
    payload, signed, signature = _claims(token)
    kind = payload.get("typ", PARTICIPANT)  # tokens from before kinds existed are sessions
    if kind not in (PARTICIPANT, LINK, STAFF):
        raise TokenError("malformed token")
    subject = _field(payload, "sub", str)
    issued = _field(payload, "iat", float)
    expires = _field(payload, "exp", float)
    key_id = _field(payload, "kid", str)
    token_id = _field(payload, "jti", str)
    secret = settings.secret_keys.get(key_id)
    if secret is None:
        raise TokenError("token signed with a retired key")
    if not hmac.compare_digest(_sign(secret, signed), signature):
        raise TokenError("bad signature")
    current = time.time() if now is None else now
    if expires < current:
        raise TokenError("token expired")
    if issued > current + CLOCK_SKEW_SECONDS:
        raise TokenError("token issued in the future")
    if token_id in settings.revoked_tokens:
        raise TokenError("token revoked")
    scope = resource = None
    roles: frozenset[str] = frozenset()
    if kind == LINK:
        scope = _field(payload, "scope", str)
        resource = _field(payload, "res", str)
        if scope not in SCOPES:
            raise TokenError("unknown scope")
    elif kind == STAFF:
        raw_roles = payload.get("roles")
        if not isinstance(raw_roles, list) or not all(isinstance(r, str) and r in STAFF_ROLES for r in raw_roles):
            raise TokenError("malformed token")
        roles = frozenset(raw_roles)
    if status is not None:
        known = status(STAFF if kind == STAFF else PARTICIPANT, subject)
        if known is not None:
            if known.erased:
                raise SubjectErased("this account no longer exists")
            # whole microseconds: a float's last digit must not decide whether a token counts
            if known.valid_after is not None and round(issued * 1e6) < round(known.valid_after * 1e6):
                raise TokenError("token replaced by a newer one")
    return Principal(kind=kind, subject=subject, roles=roles, scope=scope, resource=resource, token_id=token_id,
                     issued_at=issued)


def machine_principal(settings: Settings, token: str) -> Principal | None:
    """The machine client whose LC_STAFF_TOKENS entry this is, or None."""
    if not isinstance(token, str) or not token.isascii():
        return None
    for secret, role in settings.machine_tokens().items():
        if hmac.compare_digest(token.encode("ascii"), secret.encode("utf-8")):
            return Principal(kind=MACHINE, subject=f"machine:{role}", roles=frozenset({role}))
    return None


def authenticate(settings: Settings, token: str, now: float | None = None,
                 status: StatusLookup | None = None) -> Principal:
    """A machine token from configuration, else a signed token; TokenError when neither."""
    return machine_principal(settings, token) or verify_token(settings, token, now=now, status=status)


def verify_participant_token(settings: Settings, token: str, now: float | None = None,
                             valid_after: str | datetime | float | None = None) -> Principal:
    """A participant's session token (not a link, not staff), refused when issued before `valid_after`."""
    bound = epoch(valid_after)
    principal = verify_token(settings, token, now=now,
                             status=(lambda kind, subject: SubjectStatus(valid_after=bound)) if bound else None)
    if principal.kind != PARTICIPANT:
        raise TokenError("not a participant session token")
    return principal
