"""The matcher API (Flask factory, served by gunicorn: services.matcher.app:create_app())."""
from __future__ import annotations

from shared.audit_api import blp as audit_blp
from shared.config import Settings
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.web import create_service_app

from services.matcher import SERVICE
from services.matcher.api import blp
from services.matcher.config import MatcherConfig
from services.matcher.service import MatcherService
from services.matcher.stats import stats
from services.matcher.store import Store

DESCRIPTION = ("Proposes 1:1 and cluster connections (one sharer, up to three learners) under hard rules "
               "(a common language, time-zone overlap, different groups, capacity), runs optimal rounds, "
               "and records answers and outcomes.")


def create_app(settings: Settings | None = None, config: MatcherConfig | None = None, clock=None):
    settings = settings or Settings.from_env()
    store = Store(database(settings, SERVICE))
    return create_service_app(SERVICE, settings, store.db, blueprints=[blp, audit_blp], stats=lambda: stats(store),
                              description=DESCRIPTION, prepare=store.ensure_indexes,
                              token_status=TokenSubjects(store.db).lookup,
                              use_cases=MatcherService(store, config or MatcherConfig.from_env(), clock))
