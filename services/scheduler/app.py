"""The scheduler API (Flask factory, served by gunicorn: services.scheduler.app:create_app())."""
from __future__ import annotations

from shared.audit_api import blp as audit_blp
from shared.config import Settings
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.web import create_service_app

from services.scheduler import SERVICE
from services.scheduler.api import blp
from services.scheduler.config import SchedulerConfig
from services.scheduler.service import SchedulerService
from services.scheduler.stats import stats
from services.scheduler.store import Store


def create_app(settings: Settings | None = None, clock=None, config: SchedulerConfig | None = None):
    settings = settings or Settings.from_env()
    store = Store(database(settings, SERVICE))
    return create_service_app(
        SERVICE, settings, store.db, blueprints=[blp, audit_blp], stats=lambda: stats(store),
        description="Live learning clinics (monthly and quarterly) with seats, waitlists, invitations, "
                    "reminders, calendars and feedback, and a calendar of the movement's other learning spaces.",
        prepare=store.ensure_indexes, token_status=TokenSubjects(store.db).lookup,
        use_cases=SchedulerService(store, settings, config or SchedulerConfig.from_env(), clock))
