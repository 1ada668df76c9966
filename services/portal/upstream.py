"""The one way the portal talks to the five services: their public HTTP APIs.

One keep-alive `requests.Session` per thread (gunicorn's gthread workers serve requests on
several threads; a session is not made to be shared between them), a connect and a read
timeout on every call, and three outcomes a page can act on: the answer, `Rejected` (the
service said no: 4xx with its JSON body), or `ServiceUnavailable` (down, too slow, or a 5xx),
which the app turns into a friendly 503 page.

A kept-alive connection the service closed just as a request went out fails before the service
read anything; such a request is sent once more on a new connection when repeating it is harmless
(GET, HEAD, PUT, DELETE). A POST is never sent twice: it may have done something.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)
REPEATABLE = frozenset({"GET", "HEAD", "PUT", "DELETE"})


class ServiceUnavailable(RuntimeError):
    """A service is down, too slow, or failed (5xx): nothing the person did wrong."""

    def __init__(self, service: str, reason: str):
        super().__init__(f"{service}: {reason}")
        self.service = service
        self.reason = reason


class Rejected(RuntimeError):
    """A service answered 4xx; `body` is its JSON error (code, message, errors, ...)."""

    def __init__(self, service: str, status: int, body: dict):
        super().__init__(f"{service} answered {status}: {body.get('message', '')}")
        self.service = service
        self.status = status
        self.body = body


class NotFound(Rejected):
    pass


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict | None
    content: bytes
    content_type: str


class ServiceClient:
    def __init__(self, api_urls: dict[str, str], connect_timeout: float, read_timeout: float, pool_size: int = 16):
        self.api_urls = dict(api_urls)
        self.timeout = (connect_timeout, read_timeout)
        self.pool_size = pool_size
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=len(self.api_urls) or 1, pool_maxsize=self.pool_size,
                                  max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "letsconnect-portal"
            self._local.session = session
        return session

    def request(self, method: str, service: str, path: str, *, params: dict | None = None, json=None,
                headers: dict | None = None, data: bytes | None = None) -> Answer:
        """`data`: a raw body (a CSV upload, say) instead of `json`, with its Content-Type in `headers`."""
        url = self.api_urls[service] + path
        attempts = 2 if method.upper() in REPEATABLE else 1
        try:
            for attempt in range(1, attempts + 1):
                try:
                    response = self._session().request(method, url, params=params, json=json, headers=headers,
                                                       data=data, timeout=self.timeout)
                    break
                except requests.ConnectionError as exc:
                    if attempt == attempts or isinstance(exc, requests.Timeout):
                        raise
                    log.info("portal: %s %s: connection closed under the request, sending it again", method, url)
        except requests.Timeout as exc:
            log.warning("portal: %s %s timed out: %s", method, url, exc)
            raise ServiceUnavailable(service, "did not answer in time") from exc
        except requests.RequestException as exc:
            log.warning("portal: %s %s unreachable: %s", method, url, exc)
            raise ServiceUnavailable(service, "unreachable") from exc
        content_type = response.headers.get("Content-Type", "")
        body = None
        if "json" in content_type:
            try:
                body = response.json()
            except ValueError:
                body = None
        if response.status_code >= 500:
            log.warning("portal: %s %s answered %s", method, url, response.status_code)
            raise ServiceUnavailable(service, f"answered {response.status_code}")
        if response.status_code == 404:
            raise NotFound(service, 404, body or {})
        if response.status_code >= 400:
            raise Rejected(service, response.status_code, body or {})
        return Answer(response.status_code, body, response.content, content_type)

    def get_json(self, service: str, path: str, params: dict | None = None, bearer: str | None = None) -> dict:
        answer = self.request("GET", service, path, params=_without_empty(params), headers=_authorised(bearer))
        if answer.body is None:
            raise ServiceUnavailable(service, f"GET {path} did not answer JSON")
        return answer.body

    def post_json(self, service: str, path: str, body: dict, bearer: str | None = None,
                  forwarded_for: str | None = None) -> Answer:
        headers = _authorised(bearer)
        if forwarded_for:  # believed only where LC_TRUSTED_PROXIES names the portal (rate limits per person)
            headers = {**(headers or {}), "X-Forwarded-For": forwarded_for}
        return self.request("POST", service, path, json=body, headers=headers)

    def send(self, method: str, service: str, path: str, bearer: str, body: dict | None = None) -> Answer:
        """PUT, PATCH or DELETE on behalf of the person whose token (session or link) this is."""
        return self.request(method, service, path, json=body, headers=_authorised(bearer))

    def healthy(self, service: str) -> bool:
        try:
            return self.request("GET", service, "/healthz").status == 200
        except (ServiceUnavailable, Rejected):
            return False


def _authorised(bearer: str | None) -> dict | None:
    """The person's own token (their session, or the link they followed), never the portal's."""
    return {"Authorization": f"Bearer {bearer}"} if bearer else None


def _without_empty(params: dict | None) -> dict | None:
    if params is None:
        return None
    return {key: value for key, value in params.items() if value not in (None, "", [])}
