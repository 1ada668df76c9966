"""The notifier API (Flask factory, served by gunicorn: services.notifier.app:create_app())."""
from __future__ import annotations

from shared.config import Settings
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.web import create_service_app

from services.notifier import SERVICE
from services.notifier.api import blp
from services.notifier.stats import notifier_stats
from services.notifier.store import Store

DESCRIPTION = ("Tells people what concerns them, in a language they read, exactly once: welcome, match "
               "proposals and introductions, clinic invitations and changes (with .ics), reminders, feedback "
               "requests, new resources; and asks translators for what is not yet translated.")


def create_app(settings: Settings | None = None):
    settings = settings or Settings.from_env()
    db = database(settings, SERVICE)
    store = Store(db)
    app = create_service_app(SERVICE, settings, db, blueprints=[blp], stats=lambda: notifier_stats(store),
                             description=DESCRIPTION, prepare=store.ensure_indexes,
                             token_status=TokenSubjects(db).lookup)
    app.config["LC_NOTIFIER_STORE"] = store
    return app
