"""The resources API (Flask factory, served by gunicorn: services.resources.app:create_app())."""
from __future__ import annotations

from shared.audit_api import blp as audit_blp
from shared.config import Settings
from shared.mongo import database
from shared.web import create_service_app

from services.resources import SERVICE
from services.resources.api import blp
from services.resources.service import ResourcesService
from services.resources.stats import stats
from services.resources.store import Store

DESCRIPTION = ("The program's resource space: recordings, decks, guidelines, documents, references and case "
               "studies, searchable in any script, translated where possible, exported to Meta-Wiki.")


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    store = Store(database(settings, SERVICE))
    return create_service_app(SERVICE, settings, store.db, blueprints=[blp, audit_blp], stats=lambda: stats(store),
                              description=DESCRIPTION, prepare=store.ensure_indexes,
                              token_status=store.subjects.lookup, use_cases=ResourcesService(store))
