"""Who may do what: the one table of staff roles per route, for every service (issue 15).

Each entry is (service, HTTP method, Flask rule) -> the staff roles allowed there. Coordinators are
listed on every route: they may do everything and manage staff. The issue's split of the work:

- working_group: rounds, connections, clinics, spaces, feedback and summaries, the report;
- ambassador: the directory (share interests, case studies), proposing a clinic, the report;
- translator: the translation-request queue.

`STAFF_ONLY` routes are refused (401/403) before the request body is even read
(shared.auth.enforce_route_roles, installed by shared.web.create_service_app); the routes
themselves call `shared.auth.require_staff()` without naming roles, so the roles live here only.
`PUBLIC_OR_STAFF` routes are public and show the listed roles more (a hidden resource).
`PARTICIPANT_OR_STAFF` routes are also open to the participant the route is about (their session
or an email link); for those the table names which staff may act on a participant's behalf
(`shared.auth.require_participant` and `staff_may_act` read it). A route not in this table admits
no staff privilege at all; tests/unit/shared/test_roles.py checks that every route of every service
that calls a staff guard is here, and generates the role matrix (route x role) from this table.
docs/security.md prints it.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.tokens import STAFF_ROLES

COORDINATOR, WORKING_GROUP, AMBASSADOR, TRANSLATOR = STAFF_ROLES

STAFF_ONLY, PARTICIPANT_OR_STAFF, PUBLIC_OR_STAFF = "staff", "participant-or-staff", "public-or-staff"

EVERY_ROLE = STAFF_ROLES
RUNS_PROGRAM = (COORDINATOR, WORKING_GROUP)
PROPOSES_CLINICS = (COORDINATOR, WORKING_GROUP, AMBASSADOR)
TRANSLATES = (COORDINATOR, WORKING_GROUP, TRANSLATOR)
ONLY_COORDINATORS = (COORDINATOR,)


@dataclass(frozen=True)
class Access:
    roles: tuple[str, ...]
    kind: str = STAFF_ONLY


def _staff(*roles: str) -> Access:
    return Access(tuple(roles))


def _shared(*roles: str) -> Access:
    return Access(tuple(roles), PARTICIPANT_OR_STAFF)


def _public(*roles: str) -> Access:
    """A public route where these staff roles see more (a hidden resource, say)."""
    return Access(tuple(roles), PUBLIC_OR_STAFF)


ROUTES: dict[tuple[str, str, str], Access] = {
    # every service: its audit log (shared/audit_api.py)
    **{(service, "GET", "/audit"): _staff(*ONLY_COORDINATORS)
       for service in ("registry", "matcher", "scheduler", "notifier", "resources")},
    # registry: participants, taxonomy, imports, staff accounts
    ("registry", "POST", "/taxonomy/topics"): _staff(*RUNS_PROGRAM),
    ("registry", "GET", "/participants"): _staff(*RUNS_PROGRAM),
    ("registry", "GET", "/participants/<participant_id>"): _shared(*RUNS_PROGRAM),
    ("registry", "PATCH", "/participants/<participant_id>"): _shared(*RUNS_PROGRAM),
    ("registry", "DELETE", "/participants/<participant_id>"): _shared(*ONLY_COORDINATORS),
    ("registry", "POST", "/participants/<participant_id>/token"): _shared(*ONLY_COORDINATORS),
    ("registry", "POST", "/imports"): _staff(*RUNS_PROGRAM),
    ("registry", "GET", "/staff"): _staff(*ONLY_COORDINATORS),
    ("registry", "POST", "/staff"): _staff(*ONLY_COORDINATORS),
    ("registry", "GET", "/staff/names"): _staff(*EVERY_ROLE),
    ("registry", "GET", "/staff/<staff_id>"): _staff(*ONLY_COORDINATORS),
    ("registry", "PATCH", "/staff/<staff_id>"): _staff(*ONLY_COORDINATORS),
    ("registry", "DELETE", "/staff/<staff_id>"): _staff(*ONLY_COORDINATORS),
    # matcher: rounds, capacities, matches and connections
    ("matcher", "POST", "/rounds"): _staff(*RUNS_PROGRAM),
    ("matcher", "GET", "/rounds"): _staff(*RUNS_PROGRAM),
    ("matcher", "GET", "/outcomes"): _staff(*RUNS_PROGRAM),
    ("matcher", "GET", "/rounds/<round_id>"): _staff(*RUNS_PROGRAM),
    ("matcher", "POST", "/rounds/<round_id>/commit"): _staff(*RUNS_PROGRAM),
    ("matcher", "PUT", "/sharers/<participant_id>/capacity"): _staff(*RUNS_PROGRAM),
    ("matcher", "GET", "/matches"): _shared(*RUNS_PROGRAM),
    ("matcher", "GET", "/matches/<match_id>"): _shared(*RUNS_PROGRAM),
    ("matcher", "POST", "/matches/<match_id>/outcome"): _shared(*RUNS_PROGRAM),
    ("matcher", "GET", "/connections/<connection_id>"): _shared(*RUNS_PROGRAM),
    # scheduler: clinics, attendance, feedback, spaces
    ("scheduler", "POST", "/clinics"): _staff(*PROPOSES_CLINICS),
    ("scheduler", "GET", "/clinics/proposals"): _staff(*PROPOSES_CLINICS),
    ("scheduler", "PATCH", "/clinics/<clinic_id>"): _staff(*RUNS_PROGRAM),
    ("scheduler", "DELETE", "/clinics/<clinic_id>"): _staff(*RUNS_PROGRAM),
    ("scheduler", "POST", "/clinics/<clinic_id>/cancel"): _staff(*RUNS_PROGRAM),
    ("scheduler", "POST", "/clinics/<clinic_id>/approve"): _staff(*RUNS_PROGRAM),
    ("scheduler", "GET", "/clinics/<clinic_id>/interpretation"): _staff(*RUNS_PROGRAM),
    ("scheduler", "GET", "/clinics/<clinic_id>/registrations"): _staff(*RUNS_PROGRAM),
    ("scheduler", "POST", "/clinics/<clinic_id>/complete"): _staff(*RUNS_PROGRAM),
    ("scheduler", "POST", "/clinics/<clinic_id>/recording/confirm"): _staff(*RUNS_PROGRAM),
    ("scheduler", "GET", "/clinics/<clinic_id>/feedback"): _staff(*RUNS_PROGRAM),
    ("scheduler", "GET", "/feedback"): _staff(*RUNS_PROGRAM),
    ("scheduler", "POST", "/spaces"): _staff(*RUNS_PROGRAM),
    ("scheduler", "POST", "/spaces/import"): _staff(*RUNS_PROGRAM),
    ("scheduler", "PATCH", "/spaces/<space_id>"): _staff(*RUNS_PROGRAM),
    ("scheduler", "DELETE", "/spaces/<space_id>"): _staff(*RUNS_PROGRAM),
    ("scheduler", "POST", "/clinics/<clinic_id>/registrations"): _shared(*RUNS_PROGRAM),
    ("scheduler", "GET", "/clinics/<clinic_id>/registrations/<participant_id>"): _shared(*RUNS_PROGRAM),
    ("scheduler", "DELETE", "/clinics/<clinic_id>/registrations/<participant_id>"): _shared(*RUNS_PROGRAM),
    ("scheduler", "GET", "/interpretation-requests/<request_id>"): _shared(*RUNS_PROGRAM),
    ("scheduler", "GET", "/participants/<participant_id>/registrations"): _shared(*RUNS_PROGRAM),
    # notifier: delivery log, preferences, translation queue
    ("notifier", "GET", "/notifications"): _staff(*RUNS_PROGRAM),
    ("notifier", "GET", "/translation-requests"): _staff(*TRANSLATES),
    ("notifier", "POST", "/translation-requests/<string:request_id>/done"): _staff(*TRANSLATES),
    ("notifier", "POST", "/translation-requests/<string:request_id>/assign"): _staff(*TRANSLATES),
    ("notifier", "GET", "/preferences/<string:participant>"): _shared(*RUNS_PROGRAM),
    ("notifier", "PUT", "/preferences/<string:participant>"): _shared(*RUNS_PROGRAM),
    ("notifier", "GET", "/preferences/<string:participant>/unsubscribe"): _shared(*RUNS_PROGRAM),
    ("notifier", "POST", "/preferences/<string:participant>/unsubscribe"): _shared(*RUNS_PROGRAM),
    # resources: publishing (case studies), changing, hiding, translating
    ("resources", "POST", "/resources"): _shared(*EVERY_ROLE),
    ("resources", "GET", "/resources/<resource_id>"): _public(*RUNS_PROGRAM),
    ("resources", "GET", "/resources/hidden"): _staff(*RUNS_PROGRAM),
    ("resources", "POST", "/resources/<resource_id>/hide"): _staff(*RUNS_PROGRAM),
    ("resources", "POST", "/resources/<resource_id>/restore"): _staff(*RUNS_PROGRAM),
    ("resources", "PATCH", "/resources/<resource_id>"): _shared(*RUNS_PROGRAM),
    ("resources", "DELETE", "/resources/<resource_id>"): _shared(*RUNS_PROGRAM),
    ("resources", "POST", "/resources/<resource_id>/translations"): _shared(*TRANSLATES),
}


def access(service: str, method: str, rule: str) -> Access | None:
    return ROUTES.get((service, method.upper(), rule))


def allowed(service: str, method: str, rule: str, role: str) -> bool:
    """Whether a staff member with `role` may call the route (False for a route with no staff access)."""
    found = access(service, method, rule)
    return found is not None and role in found.roles


def matrix() -> list[tuple[str, str, str, str, bool]]:
    """Every route x every role: (service, method, rule, role, allowed), for tests and the docs."""
    return [(service, method, rule, role, role in entry.roles)
            for (service, method, rule), entry in sorted(ROUTES.items()) for role in STAFF_ROLES]


def markdown_table() -> str:
    """The matrix as docs/security.md shows it."""
    head = "| service | method | route | " + " | ".join(STAFF_ROLES) + " | also |"
    rows = [head, "|" + "---|" * (4 + len(STAFF_ROLES))]
    for (service, method, rule), entry in sorted(ROUTES.items()):
        marks = " | ".join("yes" if role in entry.roles else "-" for role in STAFF_ROLES)
        also = {PARTICIPANT_OR_STAFF: "the participant", PUBLIC_OR_STAFF: "anyone"}.get(entry.kind, "-")
        rows.append(f"| {service} | {method} | `{rule}` | {marks} | {also} |")
    return "\n".join(rows)
