"""The portal's use cases: read from and write to the services' APIs, decide with domain/.

The portal owns no program data. Each use case calls the APIs through `upstream.ServiceClient`
(timeouts, keep-alive, `ServiceUnavailable` when a service is down) and returns plain data for a
page: the routes in api.py only parse the request and render what they get back.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import quote

from services.portal.config import PortalConfig
from services.portal.domain import N_
from services.portal.domain.account import SESSION, Access, update_body
from services.portal.domain.languages import supported
from services.portal.domain.filters import ClinicFilters, DirectoryFilters, ResourceFilters, page_of
from services.portal.domain.registration import FieldError, Form, Refusal, field_errors, refusal, registration_body
from services.portal.upstream import NotFound, Rejected, ServiceClient, ServiceUnavailable

__all__ = ["PortalService", "NotFound", "ServiceUnavailable", "NotAllowed", "Conflict"]


@dataclass(frozen=True)
class Taxonomy:
    categories: list[dict]          # [{code, label, topics: [{code, label, hot}]}] in one language
    labels: dict[str, str]          # topic code -> label

    def label(self, code: str) -> str:
        return self.labels.get(code, code)


@dataclass(frozen=True)
class Registered:
    participant_id: str
    name: str


@dataclass(frozen=True)
class Refused:
    refusal: Refusal


@dataclass(frozen=True)
class Invalid:
    errors: dict[str, list[FieldError]]
    unavailable: bool = False       # the registry was down: nothing was judged, nothing saved


@dataclass(frozen=True)
class Page:
    items: list[dict]
    next: str | int | None = None     # the API's cursor (directory, resources) or the next page number
    extra: dict = field(default_factory=dict)


class TaxonomyCache:
    """GET /taxonomy per language, kept for `ttl` seconds: every page shows topic labels, and topics
    change only when staff add one. While the registry is down the last copy serves (a form that
    must be shown again with what the person typed still can be)."""

    def __init__(self, client: ServiceClient, ttl: float, clock=time.monotonic):
        self.client, self.ttl, self.clock = client, ttl, clock
        self._kept: dict[str, tuple[float, Taxonomy]] = {}
        self._lock = threading.Lock()

    def get(self, language: str) -> Taxonomy:
        now = self.clock()
        with self._lock:
            kept = self._kept.get(language)
        if kept and now - kept[0] < self.ttl:
            return kept[1]
        try:
            answer = self.client.get_json("registry", "/taxonomy", {"lang": language})
        except ServiceUnavailable:
            if kept:
                return kept[1]
            raise
        categories = answer.get("categories", [])
        taxonomy = Taxonomy(categories, {t["code"]: t["label"] for c in categories for t in c.get("topics", [])})
        with self._lock:
            self._kept[language] = (now, taxonomy)
        return taxonomy


class Recent:
    """Answers kept for a few seconds, by key: the clinics listing reads every clinic's seats (one call
    each), and twenty people opening it in the same second need not cost twenty times that."""

    def __init__(self, ttl: float, clock=time.monotonic, size: int = 256):
        self.ttl, self.clock, self.size = ttl, clock, size
        self._kept: dict = {}
        self._lock = threading.Lock()

    def get(self, key, compute):
        now = self.clock()
        with self._lock:
            kept = self._kept.get(key)
        if kept and now - kept[0] < self.ttl:
            return kept[1]
        value = compute()
        with self._lock:
            if len(self._kept) >= self.size:
                self._kept.clear()
            self._kept[key] = (now, value)
        return value


class PortalService:
    def __init__(self, client: ServiceClient, config: PortalConfig):
        self.client = client
        self.config = config
        self.topics = TaxonomyCache(client, config.taxonomy_cache_seconds)
        self.listings = Recent(config.listing_cache_seconds)
        # A person's page reads its lists side by side.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="portal-upstream")
        # What a person does with their own things, each with their own token (below).
        self.accounts = Accounts(client)
        self.answers = Answers(client)
        self.seats = Seats(client)
        self.mail = Mail(client)
        self.interpreting = Interpreting(client)

    # ----- topics

    def taxonomy(self, language: str) -> Taxonomy:
        return self.topics.get(language)

    # ----- registration

    def register(self, form: Form, forwarded_for: str | None = None) -> Registered | Refused | Invalid:
        """POST /participants with the form's answers. The registry's token is not kept: people sign in
        by email (the welcome message says how), and a token never sits in a page."""
        body = registration_body(form)
        try:
            answer = self.client.post_json("registry", "/participants", body, forwarded_for=forwarded_for)
        except ServiceUnavailable:
            return Invalid({"form": [FieldError(N_(
                "The registry is not answering, so nothing was saved. Everything you typed is still here: "
                "please send it again in a few minutes."))]}, unavailable=True)
        except Rejected as rejected:
            if rejected.status == 422 and isinstance(rejected.body.get("eligibility"), dict):
                return Refused(refusal(rejected.body["eligibility"]))
            if rejected.body.get("errors"):
                return Invalid(field_errors(rejected.body["errors"], body, form))
            if rejected.status == 413:
                return Invalid({"form": [FieldError(N_("The form is too large: shorten your notes."))]})
            return Invalid({"form": [FieldError(N_("This was not accepted: %(detail)s"),
                                                {"detail": rejected.body.get("message", str(rejected.status))})]})
        created = answer.body or {}
        return Registered(participant_id=created.get("id", ""), name=created.get("name", body.get("name", "")))

    # ----- the public directory

    def directory(self, filters: DirectoryFilters) -> Page:
        try:
            answer = self.client.get_json("registry", "/directory", filters.api_params(self.config.page_size))
        except Rejected as rejected:
            if rejected.status == 422 and filters.cursor:  # a cursor from an old link: start again
                return Page([], None, {"stale_cursor": True})
            raise
        return Page(answer.get("items", []), answer.get("next"))

    # ----- clinics

    def clinics(self, filters: ClinicFilters) -> Page:
        """Upcoming clinics with seats left (at most `listing_cache_seconds` old: a clinic's own page is
        always read fresh)."""
        return self.listings.get(("clinics", filters), lambda: self._clinics(filters))

    def _clinics(self, filters: ClinicFilters) -> Page:
        answer = self.client.get_json("scheduler", "/clinics", filters.api_params())
        listed, more = page_of(answer.get("items", []), filters.page, self.config.page_size)
        return Page(listed, filters.page + 1 if more else None)

    def clinic(self, clinic_id: str) -> dict:
        return self.client.get_json("scheduler", f"/clinics/{quote(clinic_id, safe='')}")

    def clinic_calendar(self, clinic_id: str, zone: str) -> bytes:
        """The clinic's .ics from the scheduler, written in the viewer's zone."""
        answer = self.client.request("GET", "scheduler", f"/clinics/{quote(clinic_id, safe='')}.ics",
                                     params={"tz": zone} if zone != "UTC" else None)
        return answer.content

    # ----- resources

    def resources(self, filters: ResourceFilters) -> Page:
        try:
            answer = self.client.get_json("resources", "/resources", filters.api_params(self.config.page_size))
        except Rejected as rejected:
            if rejected.status == 422 and filters.cursor:
                return Page([], None, {"stale_cursor": True})
            raise
        return Page(answer.get("items", []), answer.get("next"))

    def resource(self, resource_id: str) -> dict:
        return self.client.get_json("resources", f"/resources/{quote(resource_id, safe='')}")

    # ----- the signed-in person's page

    def my_page(self, access) -> dict:
        """The profile, proposals, seats and mail choices, read side by side. A list whose service is
        down is None (the page says so); the profile's registry must answer."""
        def unless_down(read):
            try:
                return read(access)
            except ServiceUnavailable:
                return None

        lists = {name: self._pool.submit(unless_down, read) for name, read in (
            ("matches", self.answers.mine), ("seats", self.seats.mine), ("preferences", self.mail.preferences))}
        profile = self.accounts.profile(access)
        return {"profile": profile, **{name: future.result() for name, future in lists.items()}}

    # ----- operations

    def readiness(self) -> dict[str, bool]:
        """Whether each service a page needs answers (registry, scheduler, resources)."""
        return {service: self.client.healthy(service) for service in ("registry", "scheduler", "resources")}


# ---------------------------------------------------------------- phase B: people acting on their own things
#
# Every call below carries the person's own token (their session, or the email link's token for exactly
# that page: domain/account.py's Access); the portal has no rights of its own over anyone's data.

class NotAllowed(RuntimeError):
    """A service refused the person's token: expired, replaced (signed out everywhere), for another
    action, or the person's data was erased (410)."""

    def __init__(self, status: int, detail: str = ""):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class Conflict(RuntimeError):
    """The service said no to the action itself (already answered, no seat, too late ...): its words."""

    def __init__(self, detail: str, errors: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or {}


def _path(value: str) -> str:
    return quote(value, safe="")


def _refusal(rejected: Rejected) -> Exception:
    if rejected.status in (401, 403, 410):
        return NotAllowed(rejected.status, rejected.body.get("message", ""))
    return Conflict(rejected.body.get("message", str(rejected.status)), rejected.body.get("errors"))


class _AsThePerson:
    """Calls with the person's token; refusals become NotAllowed / Conflict (NotFound stays NotFound)."""

    def __init__(self, client: ServiceClient):
        self.client = client

    def _get(self, service: str, path: str, access, params: dict | None = None) -> dict:
        try:
            return self.client.get_json(service, path, params, bearer=access.token)
        except NotFound:
            raise
        except Rejected as rejected:
            raise _refusal(rejected) from rejected

    def _send(self, method: str, service: str, path: str, access, body: dict | None = None) -> dict:
        try:
            if method == "POST":
                answer = self.client.post_json(service, path, body or {}, bearer=access.token)
            else:
                answer = self.client.send(method, service, path, access.token, body)
        except NotFound:
            raise
        except Rejected as rejected:
            raise _refusal(rejected) from rejected
        return answer.body or {}


class Accounts(_AsThePerson):
    """Signing in by email, the profile, signing out everywhere, erasure (the registry's API)."""

    def request_sign_in(self, email: str, forwarded_for: str | None) -> dict[str, list[FieldError]] | None:
        """POST /sign-in: None when asked (the same whether or not the address is registered), or the
        errors to show next to the email field."""
        try:
            self.client.post_json("registry", "/sign-in", {"email": email.strip()}, forwarded_for=forwarded_for)
        except Rejected as rejected:
            if rejected.status == 429:
                return {"email": [FieldError(N_("Too many sign-in requests: please wait a few minutes and try again."))]}
            return {"email": [FieldError(N_("Enter an email address such as name@example.org."))]}
        return None

    def open_session(self, link_token: str, forwarded_for: str | None) -> dict:
        """POST /sessions: the sign-in link's token for a session {token, participant, expires_at};
        NotAllowed when the link is used, expired or not a sign-in link."""
        try:
            return self.client.post_json("registry", "/sessions", {"token": link_token},
                                         forwarded_for=forwarded_for).body or {}
        except Rejected as rejected:
            raise NotAllowed(rejected.status, rejected.body.get("message", "")) from rejected

    def profile(self, access) -> dict:
        return self._get("registry", f"/participants/{_path(access.participant)}", access)

    def first_language(self, session_token: str, participant: str) -> str | None:
        """The person's first language when the interface exists in it (their pages open in it)."""
        try:
            profile = self.profile(Access(session_token, participant, SESSION))
        except (NotAllowed, NotFound, Conflict):
            return None
        return next((supported(code) for code in (profile.get("languages") or [])[:1] if supported(code)), None)

    def update(self, access, form: Form) -> dict | Refused | Invalid:
        body = update_body(form)
        try:
            answer = self.client.send("PATCH", "registry", f"/participants/{_path(access.participant)}",
                                      access.token, body)
        except Rejected as rejected:
            if rejected.status in (401, 403, 410):
                raise NotAllowed(rejected.status, rejected.body.get("message", "")) from rejected
            if rejected.status == 422 and isinstance(rejected.body.get("eligibility"), dict):
                return Refused(refusal(rejected.body["eligibility"]))
            if rejected.body.get("errors"):
                return Invalid(field_errors(rejected.body["errors"], body, form))
            return Invalid({"form": [FieldError(N_("This was not accepted: %(detail)s"),
                                                {"detail": rejected.body.get("message", str(rejected.status))})]})
        return answer.body or {}

    def sign_out_everywhere(self, access) -> dict:
        """A new session token: every older one (other browsers, emailed links) stops working."""
        return self._send("POST", "registry", f"/participants/{_path(access.participant)}/token", access)

    def erase(self, access) -> None:
        self._send("DELETE", "registry", f"/participants/{_path(access.participant)}", access)


class Answers(_AsThePerson):
    """Proposals, introductions, outcomes and self-made connections (the matcher's API)."""

    def mine(self, access) -> list[dict]:
        return self._get("matcher", "/matches", access, {"participant": access.participant}).get("items", [])

    def match(self, access, match_id: str) -> dict:
        return self._get("matcher", f"/matches/{_path(match_id)}", access)

    def respond(self, access, match_id: str, response: str, reason: str) -> dict:
        return self._send("POST", "matcher", f"/matches/{_path(match_id)}/respond", access,
                          _answer_body(access, response, reason))

    def outcome(self, access, match_id: str, summary: str) -> dict:
        return self._send("POST", "matcher", f"/matches/{_path(match_id)}/outcome", access,
                          {"participant": access.participant, "summary": summary.strip()})

    def ask_interpretation(self, access, match_id: str, language: str, start: str | None, minutes: int | None) -> dict:
        """Ask for an interpreter for a confirmed connection (translators of `language` are asked)."""
        return self._send("POST", "matcher", f"/matches/{_path(match_id)}/interpretation", access,
                          _interpretation_body(access, language, start, minutes))

    def connection(self, access, connection_id: str) -> dict:
        return self._get("matcher", f"/connections/{_path(connection_id)}", access)

    def confirm(self, access, connection_id: str, response: str, reason: str) -> dict:
        return self._send("POST", "matcher", f"/connections/{_path(connection_id)}/confirm", access,
                          _answer_body(access, response, reason))


class Seats(_AsThePerson):
    """Booking, cancelling, the waitlist and feedback (the scheduler's API)."""

    def mine(self, access) -> list[dict]:
        return self._get("scheduler", f"/participants/{_path(access.participant)}/registrations",
                         access).get("items", [])

    def at(self, access, clinic_id: str) -> dict | None:
        """The person's registration at this clinic (status, waitlist position), or None."""
        try:
            return self._get("scheduler", f"/clinics/{_path(clinic_id)}/registrations/{_path(access.participant)}",
                             access)
        except NotFound:
            return None

    def book(self, access, clinic_id: str, slot: str, interpretation: str | None) -> dict:
        return self._send("POST", "scheduler", f"/clinics/{_path(clinic_id)}/registrations", access,
                          {"participant": access.participant, "slot": slot, "interpretation": interpretation or None})

    def cancel(self, access, clinic_id: str) -> dict:
        return self._send("DELETE", "scheduler",
                          f"/clinics/{_path(clinic_id)}/registrations/{_path(access.participant)}", access)

    def feedback(self, access, clinic_id: str, answers: dict) -> dict:
        return self._send("POST", "scheduler", f"/clinics/{_path(clinic_id)}/feedback", access,
                          {"participant": access.participant, **answers})


class Mail(_AsThePerson):
    """Which mail a person receives (the notifier's preferences API)."""

    def preferences(self, access) -> dict:
        return self._get("notifier", f"/preferences/{_path(access.participant)}", access)

    def save(self, access, skip: list[str], resources: str) -> dict:
        return self._send("PUT", "notifier", f"/preferences/{_path(access.participant)}", access,
                          {"skip": skip, "resources": resources})


class Interpreting(_AsThePerson):
    """A clinic's presenter view and an interpreter's request (the scheduler's API)."""

    def presenter(self, access, clinic_id: str) -> dict:
        return self._get("scheduler", f"/clinics/{_path(clinic_id)}/presenter", access)

    def request(self, access, request_id: str) -> dict:
        return self._get("scheduler", f"/interpretation-requests/{_path(request_id)}", access)

    def respond(self, access, request_id: str, response: str) -> dict:
        return self._send("POST", "scheduler", f"/interpretation-requests/{_path(request_id)}/respond", access,
                          {"response": response})


def _interpretation_body(access, language: str, start: str | None, minutes: int | None) -> dict:
    return {"participant": access.participant, "language": language, "start": start, "minutes": minutes}


def _answer_body(access, response: str, reason: str) -> dict:
    """An accept/decline (a proposal) or confirm/decline (a self-made connection): the reason only if given."""
    body = {"participant": access.participant, "response": response}
    if reason.strip():
        body["reason"] = reason.strip()
    return body
