"""The notifier worker: its consumers, its sender, its periodic jobs and its outbox relay
(python -m services.notifier.worker)."""
from __future__ import annotations

import sys

from shared.config import Settings
from shared.mongo import database
from shared.worker import PeriodicJob, Worker, serve

from services.notifier import SERVICE
from services.notifier.config import NotifierConfig
from services.notifier.notifications import Notifier
from services.notifier.sending import Sender


def build_worker(settings: Settings, config: NotifierConfig | None = None) -> Worker:
    config = config or NotifierConfig.from_env()
    if config.switch_interval_ms > 0:
        # The sender waits on SMTP replies while the consumer renders mail (CPU-bound) in the same
        # interpreter; with the default 5 ms switch interval every reply can wait up to 5 ms for
        # the GIL, four replies per message. 1 ms keeps the relay connection busy.
        sys.setswitchinterval(config.switch_interval_ms / 1000)
    db = database(settings, SERVICE)
    notifier = Notifier(settings, config, db)
    notifier.store.ensure_indexes()
    worker = Worker(SERVICE, settings, db, handlers=notifier.handlers())
    sender = Sender(settings, config, db, wake=notifier.wake, stop=worker.stop_event, handoff=notifier.handoff,
                    owner=notifier.owner)
    worker.jobs = [
        PeriodicJob("sender", 0, sender.run),  # waits on its own wake-up event between rounds
        PeriodicJob("delivery-log", 0, sender.record_pending),  # waits on the sender's outcomes
        PeriodicJob("parked-expiry", min(30.0, max(0.2, config.park_seconds / 4)), notifier.expire_parked),
        PeriodicJob("digests", config.digest_check_seconds, notifier.send_digests),
    ]
    worker.notifier = notifier  # for tests and operators: the domain object behind the consumers
    worker.sender = sender
    return worker


if __name__ == "__main__":
    serve(build_worker)
