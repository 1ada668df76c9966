"""The routes' guards: who may call this, checked the same way in every service.

Verification itself is pure and lives in shared.tokens; here it meets Flask: the bearer token of
the request, the service's read model of token subjects (reissues, erasures, removed staff: the
`token_status` lookup given to shared.web.create_service_app), and 401/403/410 answers.
"""
from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import abort

from shared import roles as role_table
from shared.config import Settings
from shared.tokens import (
    Principal, StatusLookup, SubjectErased, TokenError, authenticate,
)

ANY_STAFF = None  # staff_roles=ANY_STAFF: the staff roles shared.roles names for the route


def _settings() -> Settings:
    return current_app.config["LC_SETTINGS"]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def verified(token: str) -> Principal:
    """The bearer of `token`, checked like every other (for a token that arrives in a link's query
    string or a form rather than the Authorization header); 401 or 410 otherwise."""
    status: StatusLookup | None = current_app.config.get("LC_TOKEN_STATUS")
    try:
        return authenticate(_settings(), token, status=status)
    except SubjectErased as exc:
        abort(410, message=str(exc))
    except TokenError as exc:
        abort(401, message=f"invalid token: {exc}")


def principal() -> Principal | None:
    """The verified bearer of this request, or None without credentials; 401 for a token that does
    not verify, 410 for the token of an erased participant or a removed staff account."""
    if "lc_principal" not in g:
        token = bearer_token()
        g.lc_principal = verified(token) if token is not None else None
    return g.lc_principal


def route_access() -> role_table.Access | None:
    """What shared.roles says about this request's route (None: no staff access there)."""
    rule = request.url_rule.rule if request.url_rule is not None else None
    if rule is None:
        return None
    return role_table.access(current_app.config.get("LC_SERVICE", ""), request.method, rule)


def enforce_route_roles():
    """Before a staff-only route runs (and before its body is parsed): 401 without a token, 403 for
    a participant or a staff member without one of the route's roles (shared.roles)."""
    if request.method == "OPTIONS":
        return None
    found = route_access()
    if found is not None and found.kind == role_table.STAFF_ONLY:
        require_staff(*found.roles)
    return None


def require_staff(*roles: str) -> Principal:
    """A staff member (named account or machine token) with one of `roles`. Without `roles`, the
    roles shared.roles names for this route (routes name none: the table is the one place), any
    role on a route the table does not know. Coordinators pass every check."""
    if not roles:
        found_access = route_access()
        roles = found_access.roles if found_access is not None else ()
    found = principal()
    if found is None:
        abort(401, message="a staff bearer token is required")
    if not found.is_staff:
        abort(403, message="this action is for program staff")
    if roles and not found.has_role(*roles):
        abort(403, message=f"this action needs one of the roles: {', '.join(roles)}")
    return found


def _caller(token: str | None) -> Principal | None:
    """The Authorization header's bearer, else the token a link carried (query string or form)."""
    if token and bearer_token() is None:
        return verified(token)
    return principal()


def require_signed_in() -> Principal:
    """A participant with their own session token, or staff; a link's token is not enough."""
    found = principal()
    if found is None:
        abort(401, message="a bearer token is required (your own token or a staff token)")
    if found.kind == "link":
        abort(403, message="this link does not allow that action")
    return found


def require_participant(participant_id: str, *, scope: str | None = None, resource: str | None = None,
                        staff_roles: tuple[str, ...] | None = ANY_STAFF, token: str | None = None) -> Principal:
    """The participant themself (session token), or the holder of a link for exactly `scope` on
    `resource` issued to that participant, or staff with one of `staff_roles` (() refuses staff).
    `token`: one that came with a link, used when the request has no Authorization header."""
    found = _caller(token)
    if found is None:
        abort(401, message="a bearer token is required (your own token, a link's token, or a staff token)")
    if staff_roles is ANY_STAFF:
        staff_roles = table_staff_roles()
    if found.is_participant(participant_id):
        return found
    if scope is not None and found.holds_link(scope, resource or participant_id, participant_id):
        return found
    if found.is_staff and staff_roles != () and (staff_roles is ANY_STAFF or found.has_role(*staff_roles)):
        return found
    if found.kind == "link":
        abort(403, message="this link does not allow that action")
    if found.is_staff:
        abort(403, message="this action needs another staff role")
    abort(403, message="this token belongs to another participant")


def table_staff_roles() -> tuple[str, ...]:
    """The staff roles shared.roles lets act on a participant's behalf on this route (() when the
    route is not in the table: no staff privilege there)."""
    found = route_access()
    return found.roles if found is not None else ()


def staff_may_act(found: Principal | None) -> bool:
    """Whether `found` is staff with one of this route's roles (shared.roles): for routes whose
    use case treats staff differently (change any resource, read a match that is not theirs)."""
    return found is not None and found.is_staff and found.has_role(*table_staff_roles())


def acting_participant(*, scope: str | None = None, resource: str | None = None, token: str | None = None) -> str:
    """The participant a session token or a matching link token speaks for (no staff): for routes
    where the person is not named in the path, such as POST /connections."""
    found = _caller(token)
    if found is None:
        abort(401, message="a bearer token is required (your own token or a link's token)")
    if found.kind == "participant":
        return found.subject
    if scope is not None and found.holds_link(scope, resource or ""):
        return found.subject
    abort(403, message="this action is for the participant themself")
