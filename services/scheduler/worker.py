"""The scheduler worker: registry read model, late invitations, reminders, outbox relay
(python -m services.scheduler.worker)."""
from __future__ import annotations

import os

from shared.config import Settings
from shared.inbox import IdempotentHandler, Inbox
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.worker import PeriodicJob, Worker, serve

from services.scheduler import SERVICE
from services.scheduler.store import Store


def build_worker(settings: Settings, clock=None, reminder_every: float | None = None) -> Worker:
    store = Store(database(settings, SERVICE), clock)
    store.ensure_indexes()
    inbox = Inbox(store.db, SERVICE)
    subjects = TokenSubjects(store.db)

    def handler(apply):
        def effect(session, envelope):
            apply(session, envelope["data"])
            subjects.apply(session, envelope)  # no-op for events that are not about token subjects
        return IdempotentHandler(inbox, effect)

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
