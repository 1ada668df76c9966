"""A small HTTP client for the five services' public APIs (used by the demo and the report)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import requests

from shared.config import SERVICES, Settings


class ApiError(RuntimeError):
    def __init__(self, method: str, url: str, status: int, body: str):
        super().__init__(f"{method} {url} -> {status}: {body[:300]}")
        self.status = status
        self.body = body


RETRIABLE = (502, 503, 504)


@dataclass
class Platform:
    urls: dict[str, str]
    staff_token: str
    timeout: float = 30.0
    # For as long as this, a call that failed because a process was away (refused connection,
    # 502/503/504) is sent again; a write whose answer was lost may then apply twice, so callers
    # accept the 409 of a repeat. 0: no retries (the demo against a healthy stack).
    retry_seconds: float = 0.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "Platform":
        host = settings.host if settings.host not in ("0.0.0.0", "") else "127.0.0.1"
        return cls({name: f"http://{host}:{settings.ports[name]}" for name in SERVICES},
                   settings.staff_tokens[0] if settings.staff_tokens else "")

    def __post_init__(self):
        self.session = requests.Session()

    def call(self, method: str, service: str, path: str, *, token: str | None = None, staff: bool = False,
             expect: tuple[int, ...] = (200, 201), **kwargs):
        headers = kwargs.pop("headers", {})
        bearer = self.staff_token if staff else token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        url = self.urls[service] + path
        deadline = time.monotonic() + self.retry_seconds
        pause = 0.2
        while True:
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
                if response.status_code in expect or response.status_code not in RETRIABLE:
                    break
                failure: Exception = ApiError(method, url, response.status_code, response.text)
            except requests.RequestException as exc:
                failure = exc
            if time.monotonic() + pause > deadline:
                raise failure
            time.sleep(pause)
            pause = min(pause * 2, 2.0)
        if response.status_code not in expect:
            raise ApiError(method, url, response.status_code, response.text)
        return response

    def json(self, method: str, service: str, path: str, **kwargs):
        response = self.call(method, service, path, **kwargs)
        return response.json() if response.content else None

    def stats(self, service: str) -> dict:
        return self.json("GET", service, "/stats", staff=True)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        missing = set(self.urls)
        while missing and time.time() < deadline:
            for service in sorted(missing):
                try:
                    if self.session.get(self.urls[service] + "/readyz", timeout=2).status_code == 200:
                        missing.discard(service)
                except requests.RequestException:
                    pass
            if missing:
                time.sleep(0.5)
        if missing:
            raise RuntimeError(f"not reachable: {', '.join(sorted(missing))} (is `make run` running?)")
