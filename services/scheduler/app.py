"""The scheduler API (Flask factory, served by gunicorn: services.scheduler.app:create_app())."""
from __future__ import annotations

from shared.config import Settings
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.web import create_service_app

from services.scheduler import SERVICE
from services.scheduler.api import blp
from services.scheduler.store import Store


def create_app(settings: Settings | None = None, clock=None):
    settings = settings or Settings.from_env()
    store = Store(database(settings, SERVICE), clock)
    app = create_service_app(
        SERVICE, settings, store.db, blueprints=[blp], stats=store.stats,
        description="Live learning clinics (monthly and quarterly) with seats, waitlists, invitations, "
                    "reminders, calendars and feedback, and a calendar of the movement's other learning spaces.",
        prepare=store.ensure_indexes, token_status=TokenSubjects(store.db).lookup)
    app.config["LC_STORE"] = store
    return app
