"""`letsconnect staff add EMAIL --role coordinator [--name NAME]`: bootstrap the first staff account.

Calls the registry's `POST /staff` with a coordinator's machine token from LC_STAFF_TOKENS (an
entry without a role, or `token:coordinator`), as any coordinator would from the console: the
account is announced (staff-account-changed) and audited as added by `machine:coordinator`. The
person then signs in at {portal}/staff/sign-in with the emailed single-use link. Once a named
coordinator exists, staff are managed in the console (docs/operations.md).
"""
from __future__ import annotations

import sys

from letsconnect.client import ApiError, Platform
from shared.config import Settings


def coordinator_machine_token(settings: Settings) -> str | None:
    """The first LC_STAFF_TOKENS entry that is a coordinator's (its secret part)."""
    return next((secret for secret, role in settings.machine_tokens().items() if role == "coordinator"), None)


def add(settings: Settings, email: str, roles: list[str], name: str | None, platform: Platform | None = None) -> int:
    token = coordinator_machine_token(settings)
    if token is None:
        print("letsconnect staff add: LC_STAFF_TOKENS holds no coordinator token (an entry without a role, "
              "or token:coordinator)", file=sys.stderr)
        return 1
    platform = platform or Platform.from_settings(settings)
    try:
        account = platform.json("POST", "registry", "/staff", token=token, expect=(201,),
                                json={"email": email, "roles": roles, **({"name": name} if name else {})})
    except ApiError as exc:
        print(f"letsconnect staff add: {exc}", file=sys.stderr)
        return 1
    print(f"staff account {account['id']} ({', '.join(account['roles'])}) for {account['email']}; "
          f"sign in at {settings.portal_url}/staff/sign-in")
    return 0
