"""The scheduler worker: registry read model, late invitations, reminders, outbox relay
(python -m services.scheduler.worker). Bootstrap only: the work is in handlers.py and service.py."""
from __future__ import annotations

from shared.config import Settings
from shared.inbox import Inbox
from shared.mongo import database
from shared.worker import PeriodicJob, Worker, serve

from services.scheduler import SERVICE
from services.scheduler.config import SchedulerConfig
from services.scheduler.handlers import handlers
from services.scheduler.service import SchedulerService
from services.scheduler.store import Store


def build_worker(settings: Settings, clock=None, reminder_every: float | None = None,
                 config: SchedulerConfig | None = None) -> Worker:
    config = config or SchedulerConfig.from_env()
    if reminder_every is not None:
        config = config.with_overrides(reminder_seconds=reminder_every)
    store = Store(database(settings, SERVICE))
    store.ensure_indexes()
    service = SchedulerService(store, settings, config, clock)
    return Worker(SERVICE, settings, store.db, handlers=handlers(service, Inbox(store.db, SERVICE)),
                  jobs=[PeriodicJob("reminders", config.reminder_seconds, service.reminders.send)])


if __name__ == "__main__":
    serve(build_worker)
