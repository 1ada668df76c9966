"""Each API's /docs (Swagger UI) loads everything from the service itself: no CDN, no validator badge,
so it works offline and tells no third party who reads it."""
from __future__ import annotations

import importlib
import re

import pytest

from shared.config import SERVICES


@pytest.fixture(scope="module")
def apps(servers):
    from tests.support import namespaced_settings

    settings = namespaced_settings(servers)
    return {name: importlib.import_module(f"services.{name}.app").create_app(settings).test_client()
            for name in SERVICES}


@pytest.mark.parametrize("service", SERVICES)
def test_the_api_docs_load_only_from_the_service_itself(apps, service):
    client = apps[service]
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    loaded = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(loaded) >= 3 and all(url.startswith("/docs/assets/") for url in loaded), loaded
    assert not re.search(r"https?://", html), "the page names another host"
    assert '"validatorUrl": null' in html
    for url in loaded:
        asset = client.get(url)
        assert asset.status_code == 200 and len(asset.get_data()) > 1000, url
    assert client.get("/docs/assets/../app.py").status_code == 404
