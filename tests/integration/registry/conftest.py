"""Each registry test module gets its own namespace, API client and (when it asks) a running
worker for its outbox relay. A module may override `settings` (limits on, say)."""
from __future__ import annotations

import pytest

from services.registry.app import create_app
from services.registry.worker import build_worker
from tests.support import namespaced_settings, running


@pytest.fixture(scope="module")
def settings(servers):
    return namespaced_settings(servers)


@pytest.fixture(scope="module")
def client(settings):
    return create_app(settings).test_client()


@pytest.fixture(scope="module")
def relay(settings):
    with running(build_worker(settings)) as worker:
        yield worker
