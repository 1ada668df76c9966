"""Emailed sign-in: who gets a link, and when a link may be exchanged for a session.

A request answers the same whether or not the address is registered (the API says 202 either
way); only a registered participant (audience "participant") or an active staff account (audience
"staff") gets a pending request and a sign-in-requested event, from which the notifier mails a
single-use `signin` link (shared.tokens.SCOPES, 30 minutes) to the address it holds.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from shared.clock import iso

from services.registry.domain.errors import SignInRefused

AUDIENCES = ("participant", "staff")
# Emails are not unique (a person may hold two profiles): each gets its own link, up to this many.
MAX_LINKS_PER_REQUEST = 5
PENDING, USED = "pending", "used"


def requests_for(audience: str, profiles: list[dict], now: datetime, lifetime_seconds: int,
                 new_id: Callable[[], str]) -> list[tuple[dict, dict]]:
    """(stored request, sign-in-requested data) for each profile (or staff account, for the staff
    audience) the address belongs to."""
    expires = now + timedelta(seconds=lifetime_seconds)
    made = []
    for profile in profiles[:MAX_LINKS_PER_REQUEST]:
        request = {"_id": new_id(), "subject_id": profile["_id"], "audience": audience, "status": PENDING,
                   "requested_at": now, "expires_at": expires}
        event = {"request_id": request["_id"], "audience": audience, "subject_id": profile["_id"],
                 "expires_at": iso(expires, "seconds"), "language": (profile.get("languages") or [None])[0]}
        made.append((request, event))
    return made


def check_exchange(request: dict | None, subject_id: str, now: datetime) -> None:
    """A link opens a session once, before it expires, for the person it was sent to."""
    if request is None or request["subject_id"] != subject_id:
        raise SignInRefused("this sign-in link is not valid; ask for a new one")
    if request["status"] != PENDING:
        raise SignInRefused("this sign-in link was already used; ask for a new one")
    if request["expires_at"] <= now:
        raise SignInRefused("this sign-in link has expired; ask for a new one")
