"""The scheduler worker: registry read model, late invitations, reminders, outbox relay
(python -m services.scheduler.worker)."""
from __future__ import annotations

import os

from shared.config import Settings
from shared.inbox import Inbox
from shared.mongo import database
from shared.worker import PeriodicJob, Worker, serve

from services.scheduler import SERVICE
from services.scheduler.store import Store


def build_worker(settings: Settings, clock=None, reminder_every: float | None = None) -> Worker:
    store = Store(database(settings, SERVICE), clock)
    store.ensure_indexes()
    inbox = Inbox(store.db, SERVICE)

    def handler(apply):
        return lambda envelope: inbox.apply_once(envelope, lambda session: apply(session, envelope["data"]))

    every = reminder_every if reminder_every is not None else float(os.environ.get("LC_SCHEDULER_REMINDER_SECONDS", "60"))
    return Worker(SERVICE, settings, store.db, handlers={
        "participant-registered": handler(store.apply_participant),
        "participant-updated": handler(store.apply_participant),
        "participant-withdrawn": handler(store.apply_withdrawn),
        "skill-registered": handler(store.apply_skill),
        "skill-withdrawn": handler(store.apply_skill_withdrawn),
    }, jobs=[PeriodicJob("reminders", every, store.send_reminders)])


if __name__ == "__main__":
    serve(build_worker)
