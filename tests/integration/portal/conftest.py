"""The portal against the real registry, scheduler and resources APIs, each served over HTTP (a
werkzeug server thread) on the session's embedded MongoDB and Kafka, in a namespace of its own."""
from __future__ import annotations

import importlib
import re
import threading
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
import requests
from werkzeug.serving import make_server

from letsconnect.servers import free_port
from services.portal.app import create_app
from services.portal.config import PortalConfig
from shared.config import SERVICES
from tests.support import STAFF_HEADERS, namespaced_settings


class ServedApi:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def nowhere() -> str:
    """A URL where nothing listens: a service that is down."""
    return f"http://127.0.0.1:{free_port()}"


def portal_config(api_urls: dict, **changes) -> PortalConfig:
    urls = {service: nowhere() for service in SERVICES}
    urls.update(api_urls)
    return PortalConfig(api_urls=urls, secret_key="portal-test-key", connect_timeout_seconds=1,
                        read_timeout_seconds=10, **changes)


@dataclass
class Platform:
    settings: object
    apis: dict[str, ServedApi]

    def url(self, service: str) -> str:
        return self.apis[service].url

    def portal(self, **changes):
        """A portal app on these APIs (a Flask test client: cookies kept between requests)."""
        app = create_app(portal_config({name: api.url for name, api in self.apis.items()}, **changes), self.settings)
        return app.test_client()

    def staff(self, method: str, service: str, path: str, **kwargs):
        return requests.request(method, self.url(service) + path, headers=STAFF_HEADERS, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def platform(servers):
    settings = namespaced_settings(servers)
    apis = {name: ServedApi(importlib.import_module(f"services.{name}.app").create_app(settings))
            for name in ("registry", "scheduler", "resources", "matcher", "notifier")}
    yield Platform(settings, apis)
    for api in apis.values():
        api.stop()


class Loads(HTMLParser):
    """Every URL a page makes the browser load (scripts, styles, images, frames, form targets)."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        if tag == "form" and attrs.get("action"):
            self.urls.append(attrs["action"])
        if tag == "script" and not attrs.get("src"):
            self.inline.append("script")
        if tag == "style" or "style" in attrs or any(name.startswith("on") for name in attrs):
            self.inline.append(tag)


def loads(html: str) -> Loads:
    parser = Loads()
    parser.feed(html)
    return parser


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def text(html: str) -> str:
    """The page's text, tags removed and entities decoded, for asserting what a person reads."""
    import html as entities

    return entities.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))
