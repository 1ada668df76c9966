"""Named staff accounts (issue 15): created, given other roles, removed; what each change announces.

An account holds an address (for its sign-in mail), an optional name, its languages and its roles
(shared.tokens.STAFF_ROLES). Every change bumps `revision` and is announced as
staff-account-changed (shared/events/registry.py): the notifier keeps the address for sign-in mail,
every service's token read model keeps `tokens_valid_after` (a role change or a removal ends the
tokens issued before it, so a demoted member cannot keep acting with their old roles). A removed
account keeps only its id and roles: no address, no name; audit records naming its id stay.

The program must keep at least one coordinator: the last active one cannot be removed or lose the
role (otherwise nobody could manage staff without the machine token).
"""
from __future__ import annotations

from shared.tokens import STAFF_ROLES

from services.registry.domain.errors import RegistryError

ACTIVE, REMOVED = "active", "removed"
COORDINATOR = "coordinator"


class StaffRefused(RegistryError):
    """A staff change the rules do not allow (409), naming the field."""

    def __init__(self, message: str, field: str = "roles"):
        super().__init__(message)
        self.field = field


class StaffNotFound(RegistryError):
    pass


class StaffExists(RegistryError):
    pass


def email_key(email: str) -> str:
    return email.strip().casefold()


def normalised_roles(roles) -> list[str]:
    unknown = set(roles) - set(STAFF_ROLES)
    if unknown or not roles:
        raise StaffRefused(f"roles must be one or more of {', '.join(STAFF_ROLES)}")
    return [role for role in STAFF_ROLES if role in set(roles)]


def new_account(body: dict, staff_id: str, now: str, changed_by: str) -> dict:
    return {"_id": staff_id, "email": body["email"].strip(), "email_key": email_key(body["email"]),
            "name": body.get("name") or None, "languages": list(body.get("languages") or []),
            "roles": normalised_roles(body["roles"]), "status": ACTIVE, "revision": 1,
            "created_at": now, "updated_at": now, "tokens_valid_after": None, "changed_by": changed_by}


def changed_account(before: dict, changes: dict, now: str, changed_by: str, coordinators_left: int) -> dict:
    """The account with `changes` (roles, name, languages) applied; `before` when nothing changes.
    New roles end the tokens issued before (tokens_valid_after = now)."""
    if before["status"] != ACTIVE:
        raise StaffNotFound(before["_id"])
    after = dict(before)
    if "roles" in changes and changes["roles"] is not None:
        after["roles"] = normalised_roles(changes["roles"])
    for name in ("name", "languages"):
        if name in changes and changes[name] is not None:
            after[name] = changes[name]
    if after == before:
        return before
    _keep_a_coordinator(before, after, coordinators_left)
    after.update(revision=before["revision"] + 1, updated_at=now, changed_by=changed_by)
    if after["roles"] != before["roles"]:
        after["tokens_valid_after"] = now
    return after


def removed_account(before: dict, now: str, changed_by: str, coordinators_left: int) -> dict:
    """What stays of a removed account: its id, roles, revision and times; no address, no name."""
    if before["status"] != ACTIVE:
        raise StaffNotFound(before["_id"])
    after = {"_id": before["_id"], "roles": before["roles"], "status": REMOVED, "revision": before["revision"] + 1,
             "created_at": before.get("created_at"), "updated_at": now, "removed_at": now,
             "tokens_valid_after": now, "changed_by": changed_by, "email": None, "name": None, "languages": []}
    _keep_a_coordinator(before, after, coordinators_left)
    return after


def _keep_a_coordinator(before: dict, after: dict, coordinators_left: int) -> None:
    """`coordinators_left`: active coordinators other than this account."""
    was = COORDINATOR in before["roles"] and before["status"] == ACTIVE
    stays = COORDINATOR in after["roles"] and after["status"] == ACTIVE
    if was and not stays and coordinators_left == 0:
        raise StaffRefused("the program needs at least one coordinator; add another one first")


def event(account: dict) -> dict:
    """staff-account-changed data: the account as it now stands."""
    return {"staff_id": account["_id"], "revision": account["revision"], "status": account["status"],
            "roles": list(account["roles"]), "email": account.get("email"), "name": account.get("name"),
            "languages": list(account.get("languages") or []), "tokens_valid_after": account.get("tokens_valid_after"),
            "changed_by": account.get("changed_by")}


def public(account: dict) -> dict:
    return {"id": account["_id"], **{k: account.get(k) for k in (
        "email", "name", "languages", "roles", "status", "revision", "created_at", "updated_at")}}


def names(accounts: list[dict]) -> dict[str, str]:
    """Staff account id -> its name (for the console to say who ran a round or took a request);
    nothing else of the account, and nothing for an account without a name (never the address)."""
    return {account["_id"]: account["name"] for account in accounts if account.get("name")}


def audited(account: dict | None) -> dict | None:
    """What an audit record keeps of an account (roles and status; address and name only as changed)."""
    if account is None:
        return None
    return {k: account.get(k) for k in ("roles", "status", "email", "name")}
