"""Staff bearer tokens and participant tokens any service can verify without a call.

A participant token is `lc1.<payload>.<signature>`: the payload (base64url JSON) carries the
participant id, issue time, expiry, key id and a token id; the signature is HMAC-SHA256 with the
key named by the key id. Keys rotate through LC_SECRET_KEYS (the first signs, all verify); a
single token is revoked by listing its id in LC_REVOKED_TOKENS, and all of a person's older
tokens by the `tokens_valid_after` time the registry carries in its events.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, request
from flask_smorest import abort

from shared.config import Settings

PREFIX = "lc1"


class TokenError(Exception):
    pass


@dataclass(frozen=True)
class Claims:
    participant_id: str
    issued_at: int
    expires_at: int
    key_id: str
    token_id: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, message: str) -> str:
    return _b64(hmac.new(secret.encode("utf-8"), message.encode("ascii"), hashlib.sha256).digest())


def issue_participant_token(settings: Settings, participant_id: str, now: float | None = None) -> str:
    key_id, secret = next(iter(settings.secret_keys.items()))
    issued = int(now if now is not None else time.time())
    payload = {"sub": participant_id, "iat": issued, "exp": issued + settings.token_ttl_days * 86400,
               "kid": key_id, "jti": secrets.token_urlsafe(9)}
    body = f"{PREFIX}.{_b64(json.dumps(payload, separators=(',', ':')).encode('utf-8'))}"
    return f"{body}.{_sign(secret, body)}"


def verify_participant_token(settings: Settings, token: str, now: float | None = None,
                             valid_after: str | datetime | None = None) -> Claims:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise TokenError("not a participant token")
    try:
        payload = json.loads(_unb64(parts[1]))
        claims = Claims(str(payload["sub"]), int(payload["iat"]), int(payload["exp"]), str(payload["kid"]),
                        str(payload["jti"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise TokenError("malformed token") from exc
    secret = settings.secret_keys.get(claims.key_id)
    if secret is None:
        raise TokenError("token signed with a retired key")
    if not hmac.compare_digest(_sign(secret, f"{parts[0]}.{parts[1]}"), parts[2]):
        raise TokenError("bad signature")
    current = now if now is not None else time.time()
    if claims.expires_at < current:
        raise TokenError("token expired")
    if claims.issued_at > current + 300:
        raise TokenError("token issued in the future")
    if claims.token_id in settings.revoked_tokens:
        raise TokenError("token revoked")
    if valid_after is not None:
        if isinstance(valid_after, str):
            valid_after = datetime.fromisoformat(valid_after.replace("Z", "+00:00"))
        if claims.issued_at < int(valid_after.timestamp()):
            raise TokenError("token replaced by a newer one")
    return claims


def is_staff_token(settings: Settings, token: str) -> bool:
    return any(hmac.compare_digest(token.encode(), staff.encode()) for staff in settings.staff_tokens)


@dataclass(frozen=True)
class Actor:
    staff: bool
    participant_id: str | None = None


def _settings() -> Settings:
    return current_app.config["LC_SETTINGS"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_actor(valid_after=None) -> Actor | None:
    """The caller, or None without credentials; aborts 401 for a token that does not verify."""
    token = bearer_token()
    if token is None:
        return None
    settings = _settings()
    if is_staff_token(settings, token):
        return Actor(staff=True)
    try:
        claims = verify_participant_token(settings, token, valid_after=valid_after)
    except TokenError as exc:
        abort(401, message=f"invalid token: {exc}")
    return Actor(staff=False, participant_id=claims.participant_id)


def require_staff() -> Actor:
    actor = current_actor()
    if actor is None:
        abort(401, message="a staff bearer token is required")
    if not actor.staff:
        abort(403, message="this action is for program staff")
    return actor


def require_self_or_staff(participant_id: str, valid_after=None) -> Actor:
    """Staff, or the participant themself with their own token."""
    actor = current_actor(valid_after=valid_after)
    if actor is None:
        abort(401, message="a bearer token is required (your participant token or a staff token)")
    if not actor.staff and actor.participant_id != participant_id:
        abort(403, message="this token belongs to another participant")
    return actor


def require_participant() -> Actor:
    actor = current_actor()
    if actor is None:
        abort(401, message="a bearer token is required")
    return actor
