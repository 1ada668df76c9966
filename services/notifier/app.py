"""The notifier API (Flask factory, served by gunicorn: services.notifier.app:create_app())."""
from __future__ import annotations

from shared.audit_api import blp as audit_blp
from shared.config import Settings
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.web import create_service_app

from services.notifier import SERVICE
from services.notifier.api import blp
from services.notifier.config import NotifierConfig
from services.notifier.service import NotifierService
from services.notifier.stats import stats

DESCRIPTION = ("Tells people what concerns them, in a language they read, exactly once: welcome, match "
               "proposals and introductions, clinic invitations and changes (with .ics), reminders, feedback "
               "requests, new resources; and asks translators for what is not yet translated.")


def create_app(settings: Settings | None = None, config: NotifierConfig | None = None):
    settings = settings or Settings.from_env()
    db = database(settings, SERVICE)
    service = NotifierService(settings, config or NotifierConfig.from_env(), db)
    return create_service_app(SERVICE, settings, db, blueprints=[blp, audit_blp], stats=lambda: stats(service.store),
                              description=DESCRIPTION, prepare=service.ensure_indexes,
                              token_status=TokenSubjects(db).lookup, use_cases=service)
