"""The notifier worker: its consumers, its sender, its periodic jobs and its outbox relay
(python -m services.notifier.worker). Bootstrap only: the work is in service.py and sending.py."""
from __future__ import annotations

import sys

from shared.config import Settings
from shared.inbox import Inbox
from shared.mongo import database
from shared.worker import PeriodicJob, Worker, serve

from services.notifier import SERVICE
from services.notifier.config import NotifierConfig
from services.notifier.handlers import handlers
from services.notifier.sending import Sender
from services.notifier.service import NotifierService


def build_worker(settings: Settings, config: NotifierConfig | None = None) -> Worker:
    config = config or NotifierConfig.from_env()
    if config.switch_interval_ms > 0:
        # The sender waits on SMTP replies while the consumer renders mail (CPU-bound) in the same
        # interpreter; with the default 5 ms switch interval every reply can wait up to 5 ms for
        # the GIL, four replies per message. 1 ms keeps the relay connection busy.
        sys.setswitchinterval(config.switch_interval_ms / 1000)
    db = database(settings, SERVICE)
    service = NotifierService(settings, config, db)
    service.ensure_indexes()
    inbox = Inbox(db, SERVICE)
    worker = Worker(SERVICE, settings, db, handlers=handlers(service, inbox))
    handoff = service.handoff
    sender = Sender(settings, config, service.store, record=service.outcomes.record, wake=handoff.wake,
                    stop=worker.stop_event, handoff=handoff.queue, owner=handoff.owner)
    worker.jobs = [
        PeriodicJob("sender", 0, sender.run),  # waits on its own wake-up event between rounds
        PeriodicJob("delivery-log", 0, sender.record_pending),  # waits on the sender's outcomes
        PeriodicJob("parked-expiry", min(30.0, max(0.2, config.park_seconds / 4)), service.jobs.expire_parked),
        PeriodicJob("digests", config.digest_check_seconds, service.jobs.send_digests),
    ]
    worker.notifier = service  # for tests and operators: the use cases behind the consumers
    worker.inbox = inbox
    worker.sender = sender
    return worker


if __name__ == "__main__":
    serve(build_worker)
