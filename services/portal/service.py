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
from services.portal.domain.filters import ClinicFilters, DirectoryFilters, ResourceFilters, page_of
from services.portal.domain.registration import FieldError, Form, Refusal, field_errors, refusal, registration_body
from services.portal.upstream import NotFound, Rejected, ServiceClient, ServiceUnavailable

__all__ = ["PortalService", "NotFound", "ServiceUnavailable"]


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
        # Seats left are per clinic (GET /clinics/{id}); a page's clinics are read side by side.
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="portal-upstream")

    # ----- topics

    def taxonomy(self, language: str) -> Taxonomy:
        return self.topics.get(language)

    # ----- registration

    def register(self, form: Form) -> Registered | Refused | Invalid:
        """POST /participants with the form's answers. The registry's token is not kept: people sign in
        by email (the welcome message says how), and a token never sits in a page."""
        body = registration_body(form)
        try:
            answer = self.client.post_json("registry", "/participants", body)
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
        detailed = list(self._pool.map(self._with_seats, listed))
        return Page(detailed, filters.page + 1 if more else None)

    def _with_seats(self, clinic: dict) -> dict:
        """The listed clinic with each slot's seats left (only GET /clinics/{id} counts them)."""
        try:
            return self.clinic(clinic["id"])
        except NotFound:  # cancelled or removed between the two calls
            return clinic

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

    # ----- operations

    def readiness(self) -> dict[str, bool]:
        """Whether each service a page needs answers (registry, scheduler, resources)."""
        return {service: self.client.healthy(service) for service in ("registry", "scheduler", "resources")}
