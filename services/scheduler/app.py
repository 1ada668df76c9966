"""The scheduler API (Flask factory, served by gunicorn: services.scheduler.app:create_app())."""
from __future__ import annotations

from shared.config import Settings
from shared.mongo import database
from shared.outbox import Outbox
from shared.web import create_service_app

from services.scheduler import SERVICE


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    db = database(settings, SERVICE)
    Outbox(db, SERVICE).ensure_indexes()
    return create_service_app(SERVICE, settings, db, blueprints=[], stats=lambda: {})
