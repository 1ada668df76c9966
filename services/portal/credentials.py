"""Who is on the page: the session cookie a sign-in opened, and the link token an email carried.

The session token lives only in the `lc_session` cookie: HttpOnly (no page script can read it),
SameSite=Lax (another site's form cannot send it along with a POST), Secure when the portal is
served over https, and never in a page, a URL or a log. The portal verifies tokens with the same
shared.tokens as the services (to know whose page this is); the services remain the judges (a
reissued or erased person's token is refused there, and the portal then forgets it).
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import current_app, request

from shared.tokens import TokenError, verify_token

from services.portal.domain.account import Access, Bearer, choose_access

SESSION_COOKIE = "lc_session"


def _bearer(token: str | None) -> Bearer | None:
    if not token:
        return None
    try:
        found = verify_token(current_app.config["LC_SETTINGS"], token)
    except TokenError:
        return None
    if found.kind not in ("participant", "link"):
        return None  # staff sign in to the console, not here
    return Bearer(found.kind, found.subject, found.scope, found.resource)


def session_token() -> tuple[str, Bearer] | None:
    token = request.cookies.get(SESSION_COOKIE)
    bearer = _bearer(token)
    return (token, bearer) if bearer is not None and bearer.kind == "participant" else None


def signed_in() -> str | None:
    """The participant id of the signed-in person, or None."""
    found = session_token()
    return found[1].participant if found else None


def link_token(token: str | None) -> tuple[str, Bearer] | None:
    bearer = _bearer(token)
    return (token, bearer) if bearer is not None and bearer.kind == "link" else None


def access(scopes: tuple[str, ...], resource: str | None, token: str | None) -> Access | None:
    """The token this page acts with: the email link's (for exactly this page), else the session."""
    return choose_access(scopes, resource, link_token(token), session_token())


def link_for_another_page(token: str | None, scopes: tuple[str, ...], resource: str | None) -> bool:
    """A valid link token that is not for this page (another action, or another thing)."""
    found = link_token(token)
    return found is not None and not (found[1].scope in scopes and (resource is None or found[1].resource == resource))


def keep_session(response, token: str, expires_at: str | None) -> None:
    secure = current_app.config["LC_PORTAL"].secure_cookies or request.is_secure
    expires = None
    if expires_at:
        try:
            expires = datetime.fromisoformat(expires_at.replace("Z", "+00:00")).astimezone(timezone.utc)
        except ValueError:
            expires = None
    response.set_cookie(SESSION_COOKIE, token, expires=expires, httponly=True, samesite="Lax", secure=secure,
                        path="/")


def forget_session(response) -> None:
    secure = current_app.config["LC_PORTAL"].secure_cookies or request.is_secure
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=secure)
