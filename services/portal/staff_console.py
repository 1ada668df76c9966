"""The coordinators' console's use cases (issue 15): every staff task through the services' APIs,
with the signed-in staff member's own token, so each service checks the role (shared/roles.py)
and audits the action under that person's name. The portal decides nothing about rights: a
refusal from a service (403) becomes the console's "not for your role" page.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from urllib.parse import quote

from shared.config import Settings
from shared.tokens import STAFF, TokenError, verify_token

from services.portal.domain.staff_console import (
    AUDITED_SERVICES, FormErrors, StaffMember, clinic_body, clinic_changes, merged_audit, space_body, space_changes,
    staff_body, suggestion_day,
)
from services.portal.upstream import NotFound, Rejected, ServiceClient, ServiceUnavailable

SERVICES = ("registry", "matcher", "scheduler", "notifier", "resources")


class Forbidden(Exception):
    """A service refused the action for this staff member's roles (403)."""


class SignedOut(Exception):
    """The token no longer works (expired, replaced by a role change, account removed): sign in again."""


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _path(value: str) -> str:
    return quote(value, safe="")


def _add_field_messages(errors: FormErrors, exc: Rejected) -> None:
    """A service's 422 messages next to the form's own fields; its message on the form when it named none."""
    for name, messages in ((exc.body.get("errors") or {}).get("json") or {}).items():
        errors.add(name, "; ".join(messages) if isinstance(messages, list) else str(messages))
    if not errors:
        errors.add("form", exc.body.get("message", ""))


def _reason(exc: Rejected) -> str:
    """A service's refusal in words: its message and the fields' messages."""
    details = [f"{name}: {'; '.join(map(str, messages)) if isinstance(messages, list) else messages}"
               for where in (exc.body.get("errors") or {}).values() if isinstance(where, dict)
               for name, messages in where.items()]
    return " ".join([exc.body.get("message", ""), *details]).strip()


class _StaffCalls:
    """Signing in, and calls to the services with the signed-in member's token."""

    def __init__(self, client: ServiceClient, settings: Settings):
        self.client = client
        self.settings = settings

    def _request(self, method: str, service: str, path: str, **kwargs):
        """One call; sent again once when the pooled keep-alive connection turned out closed by the
        service (gunicorn closes idle ones after 2 s: the request never reached it)."""
        try:
            return self.client.request(method, service, path, **kwargs)
        except ServiceUnavailable as exc:
            if exc.reason != "unreachable":
                raise
            return self.client.request(method, service, path, **kwargs)

    def _public(self, service: str, path: str, params: dict | None = None) -> dict:
        return self._request("GET", service, path, params=params).body or {}

    # ----- signing in

    def member(self, token: str | None, name: str | None = None) -> StaffMember | None:
        """Who the console cookie's token names (checked like every service checks it), or None."""
        if not token:
            return None
        try:
            found = verify_token(self.settings, token)
        except TokenError:
            return None
        if found.kind != STAFF:
            return None
        return StaffMember(found.subject, found.roles, name)

    def request_sign_in(self, email: str) -> None:
        self._request("POST", "registry", "/sign-in", json={"email": email, "audience": "staff"})

    def open_session(self, link_token: str) -> dict | None:
        """{token, staff, roles, name} for a staff sign-in link, once; None when it is not valid."""
        try:
            answer = self._request("POST", "registry", "/sessions", json={"token": link_token})
        except Rejected:
            return None
        body = answer.body or {}
        return body if body.get("staff") else None

    # ----- calls with the member's token

    def _call(self, token: str, method: str, service: str, path: str, **kwargs):
        try:
            return self._request(method, service, path, headers=_bearer(token), **kwargs).body
        except NotFound:
            raise
        except Rejected as exc:
            if exc.status == 403:
                raise Forbidden(exc.body.get("message", "")) from exc
            if exc.status in (401, 410):
                raise SignedOut() from exc
            raise

    def get(self, token: str, service: str, path: str, params: dict | None = None):
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "", [])}
        return self._call(token, "GET", service, path, params=clean)

    def post(self, token: str, service: str, path: str, body: dict | None = None):
        return self._call(token, "POST", service, path, json=body if body is not None else {})

    def staff_names(self, token: str) -> dict[str, str]:
        """Staff account id -> name (registry GET /staff/names, open to every staff role), so pages
        say who ran a round or took a request; {} when the registry does not answer (ids show)."""
        try:
            return self.get(token, "registry", "/staff/names").get("names", {})
        except (Forbidden, Rejected, NotFound, ServiceUnavailable):
            return {}



class _ProgramWork(_StaffCalls):
    """The program's work: the report, rounds, connections, clinics, learning spaces."""

    # ----- dashboard: the program report (the same figures as `letsconnect report`)

    def report(self) -> tuple[dict, dict]:
        """(the program report, as `letsconnect report` builds it; the five services' /stats)."""
        from letsconnect.report import build

        with ThreadPoolExecutor(max_workers=len(SERVICES)) as pool:
            found = dict(zip(SERVICES, pool.map(lambda s: self._public(s, "/stats"), SERVICES)))
        return build(found), found

    # ----- rounds

    def rounds(self, token: str) -> list[dict]:
        return self.get(token, "matcher", "/rounds", {"limit": 20})["items"]

    def round(self, token: str, round_id: str) -> dict:
        return self.get(token, "matcher", f"/rounds/{_path(round_id)}")

    def request_round(self, token: str, dry_run: bool) -> dict:
        return self.post(token, "matcher", "/rounds", {"dry_run": dry_run})

    def commit_round(self, token: str, round_id: str) -> dict:
        return self.post(token, "matcher", f"/rounds/{_path(round_id)}/commit")

    # ----- connections and their outcome summaries

    def connections(self, token: str, topic: str | None, status: str | None, with_summary: bool,
                    region: str | None = None) -> list[dict]:
        return self.get(token, "matcher", "/outcomes", {"topic": topic, "status": status, "region": region,
                                                         "with_summary": "true" if with_summary else None})["items"]

    # ----- clinics

    def clinics(self, token: str) -> tuple[list[dict], list[dict]]:
        """(upcoming scheduled clinics, proposals waiting for the working group)."""
        upcoming = self._public("scheduler", "/clinics")["items"]
        proposals = self.get(token, "scheduler", "/clinics/proposals")["items"]
        return upcoming, proposals

    def suggested_slots(self, topic: str, day: str | None, today: date) -> dict:
        chosen = suggestion_day(day, today)
        try:
            return self._public("scheduler", "/clinics/suggest-slots",
                                {"topic": topic, "date": chosen.isoformat(), "minutes": 90})
        except Rejected:
            return {"topic": topic, "date": chosen.isoformat(), "slots": [], "interested": 0}

    def create_clinic(self, token: str, form: dict) -> tuple[dict | None, FormErrors]:
        body, errors = clinic_body(form)
        if errors:
            return None, errors
        try:
            return self.post(token, "scheduler", "/clinics", body), errors
        except Forbidden:
            raise
        except Rejected as exc:
            _add_field_messages(errors, exc)
            return None, errors

    def clinic(self, token: str, clinic_id: str) -> dict:
        """The clinic, who registered (for the attendance checklist) and its feedback."""
        path = f"/clinics/{_path(clinic_id)}"
        clinic = self.get(token, "scheduler", path)
        registrations = self.get(token, "scheduler", f"{path}/registrations").get("items", [])
        try:
            feedback = self.get(token, "scheduler", f"{path}/feedback")
        except Rejected:
            feedback = {"items": []}
        return {"clinic": clinic, "registrations": registrations, "feedback": feedback}

    def mark_attendance(self, token: str, clinic_id: str, attendees: list[str], recording_url: str | None):
        body = {"attendees": attendees[:2000], **({"recording_url": recording_url} if recording_url else {})}
        return self.post(token, "scheduler", f"/clinics/{_path(clinic_id)}/complete", body)

    def edit_clinic(self, token: str, clinic_id: str, form: dict) -> str | None:
        """None when saved (or nothing changed), else the scheduler's reason."""
        clinic = self.get(token, "scheduler", f"/clinics/{_path(clinic_id)}")
        changes = clinic_changes(form, clinic)
        if not changes:
            return None
        try:
            self._call(token, "PATCH", "scheduler", f"/clinics/{_path(clinic_id)}", json=changes)
        except Forbidden:
            raise
        except Rejected as exc:
            return _reason(exc)
        return None

    def confirm_recording(self, token: str, clinic_id: str, not_recorded: list[str]) -> str | None:
        """None when the recording may now be published, else the scheduler's reason (someone who
        did not consent is not among those confirmed as not recorded, say)."""
        try:
            self.post(token, "scheduler", f"/clinics/{_path(clinic_id)}/recording/confirm",
                      {"not_recorded": not_recorded})
        except Forbidden:
            raise
        except Rejected as exc:
            return _reason(exc)
        return None

    # ----- learning spaces

    def spaces(self) -> list[dict]:
        return self._public("scheduler", "/spaces").get("items", [])

    def add_space(self, token: str, form: dict) -> FormErrors:
        body, errors = space_body(form)
        if errors:
            return errors
        try:
            self.post(token, "scheduler", "/spaces", body)
        except Forbidden:
            raise
        except Rejected as exc:
            _add_field_messages(errors, exc)
        return errors

    def edit_space(self, token: str, space_id: str, form: dict) -> FormErrors:
        """Save what the space's form changed (the scheduler audits it); the errors, if any."""
        space = self._public("scheduler", f"/spaces/{_path(space_id)}")
        changes, errors = space_changes(form, space)
        if errors or not changes:
            return errors
        try:
            self._call(token, "PATCH", "scheduler", f"/spaces/{_path(space_id)}", json=changes)
        except Rejected as exc:
            errors.add("form", _reason(exc))
        return errors

    def remove_space(self, token: str, space_id: str) -> None:
        self._call(token, "DELETE", "scheduler", f"/spaces/{_path(space_id)}")

    def cancel_clinic(self, token: str, clinic_id: str):
        return self.post(token, "scheduler", f"/clinics/{_path(clinic_id)}/cancel")

    def feedback(self, token: str, topic: str | None) -> dict:
        return self.get(token, "scheduler", "/feedback", {"topic": topic, "limit": 50})



class StaffConsole(_ProgramWork):
    """Every use case of the console (services/portal/staff_pages.py calls it)."""

    # ----- staff accounts

    def accounts(self, token: str) -> list[dict]:
        return self.get(token, "registry", "/staff")["items"]

    def add_account(self, token: str, form: dict) -> FormErrors:
        body, errors = staff_body(form)
        if errors:
            return errors
        try:
            self.post(token, "registry", "/staff", body)
        except Forbidden:
            raise
        except Rejected as exc:
            errors.add("email", exc.body.get("message", ""))
        return errors

    def change_roles(self, token: str, staff_id: str, roles: list[str]) -> str | None:
        """None when changed, else the registry's reason (the last coordinator, say)."""
        try:
            self._call(token, "PATCH", "registry", f"/staff/{_path(staff_id)}", json={"roles": roles})
        except Rejected as exc:
            return exc.body.get("message", "")
        return None

    def remove_account(self, token: str, staff_id: str) -> str | None:
        try:
            self._call(token, "DELETE", "registry", f"/staff/{_path(staff_id)}")
        except Rejected as exc:
            return exc.body.get("message", "")
        return None

    # ----- participants

    def participants(self, token: str, filters: dict, cursor: str | None, limit: int = 50) -> dict:
        return self.get(token, "registry", "/participants", {**filters, "cursor": cursor, "limit": limit})

    def participant(self, token: str, participant_id: str) -> dict:
        return self.get(token, "registry", f"/participants/{_path(participant_id)}")

    def export_rows(self, token: str, filters: dict, most: int = 10_000):
        """Every participant the filters find, page by page (for the CSV export)."""
        cursor, sent = None, 0
        while sent < most:
            page = self.participants(token, filters, cursor, limit=200)
            yield from page["items"]
            sent += len(page["items"])
            cursor = page.get("next")
            if not cursor:
                return

    def import_csv(self, token: str, content: bytes) -> dict:
        """POST /imports with the uploaded file: the registry's report (summary and each row)."""
        try:
            answer = self._request("POST", "registry", "/imports", data=content,
                                   headers={**_bearer(token), "Content-Type": "text/csv; charset=utf-8"})
        except Rejected as exc:
            if exc.status == 403:
                raise Forbidden(exc.body.get("message", "")) from exc
            return {"error": exc.body.get("message") or str((exc.body.get("errors") or {}))}
        return answer.body or {}

    # ----- resources: hide from the public lists with a reason, restore

    def resources(self, token: str, text: str | None) -> tuple[list[dict], list[dict]]:
        """(resources matching `text`, the hidden ones)."""
        found = self._public("resources", "/resources", {"q": text, "limit": 20} if text else {"limit": 20})["items"]
        return found, self.get(token, "resources", "/resources/hidden")["items"]

    def hide_resource(self, token: str, resource_id: str, reason: str) -> str | None:
        """None when hidden, else why not (the reason is too short, say)."""
        try:
            self.post(token, "resources", f"/resources/{_path(resource_id)}/hide", {"reason": reason})
        except Rejected as exc:
            return exc.body.get("message", "")
        return None

    def restore_resource(self, token: str, resource_id: str) -> None:
        self.post(token, "resources", f"/resources/{_path(resource_id)}/restore")

    # ----- translation requests (the translators' queue)

    def translation_requests(self, token: str, status: str | None) -> list[dict]:
        return self.get(token, "notifier", "/translation-requests", {"status": status})["items"]

    def translation_done(self, token: str, request_id: str) -> None:
        self.post(token, "notifier", f"/translation-requests/{_path(request_id)}/done")

    def take_translation(self, token: str, request_id: str) -> None:
        """The signed-in member takes the request (the notifier records it as theirs, audited)."""
        self.post(token, "notifier", f"/translation-requests/{_path(request_id)}/assign")

    # ----- audit

    def audit(self, token: str, actor: str | None, action: str | None, since: str | None = None) -> list[dict]:
        """Every service's audit log as one list, with the acting person's name (`since`: a day)."""
        params = {"actor": actor, "action": action, "since": f"{since}T00:00:00Z" if since else None, "limit": 100}
        with ThreadPoolExecutor(max_workers=len(AUDITED_SERVICES)) as pool:
            found = dict(zip(AUDITED_SERVICES, pool.map(
                lambda service: self.get(token, service, "/audit", params)["items"], AUDITED_SERVICES)))
        accounts = self.get(token, "registry", "/staff", {"include_removed": "true"})["items"]
        names = {a["id"]: a.get("name") or a.get("email") for a in accounts if a.get("name") or a.get("email")}
        return merged_audit(found, names)
