"""The resources API (Flask factory, served by gunicorn: services.resources.app:create_app())."""
from __future__ import annotations

from shared.config import Settings
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.web import create_service_app

from services.resources import SERVICE
from services.resources.api import blp
from services.resources.index import SearchIndex
from services.resources.library import Library
from services.resources.stats import resources_stats
from services.resources.store import Store

DESCRIPTION = ("The program's resource space: recordings, decks, guidelines, documents, references and case "
               "studies, searchable in any script, translated where possible, exported to Meta-Wiki.")


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    store = Store(database(settings, SERVICE))
    app = create_service_app(SERVICE, settings, store.db, blueprints=[blp], stats=lambda: resources_stats(store),
                             description=DESCRIPTION, prepare=store.ensure_indexes,
                             token_status=TokenSubjects(store.db).lookup)
    app.config["LC_LIBRARY"] = Library(store)
    app.config["LC_SEARCH_INDEX"] = SearchIndex()
    return app
