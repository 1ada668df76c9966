"""The registry API (Flask factory, served by gunicorn: services.registry.app:create_app())."""
from __future__ import annotations

from shared.config import Settings
from shared.mongo import database
from shared.web import create_service_app

from services.registry import SERVICE
from services.registry.api import blp
from services.registry.config import RegistryConfig
from services.registry.service import RegistryService
from services.registry.stats import stats
from services.registry.store import Store

DESCRIPTION = ("The skills directory of Let's Connect: registration against the program's eligibility "
               "checklist, profiles with consent, the topic taxonomy, the public directory and CSV imports.")


def create_app(settings: Settings | None = None, config: RegistryConfig | None = None):
    settings = settings or Settings.from_env()
    store = Store(database(settings, SERVICE))
    service = RegistryService(store, settings, config or RegistryConfig.from_env())
    return create_service_app(SERVICE, settings, store.db, blueprints=[blp], stats=lambda: stats(store),
                              description=DESCRIPTION, prepare=store.ensure_indexes,
                              token_status=service.token_status, use_cases=service)
