"""A service worker: its Kafka consumers, its outbox relay and its periodic jobs, in threads.

Scale a worker by starting more copies: consumers share the service's group (partitions split
between them); one relay at a time holds the outbox lease; periodic jobs must be idempotent.
"""
from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from typing import Callable

from prometheus_client import start_http_server
from pymongo.database import Database

from shared.bus import ConsumerRunner, Handler, Publisher
from shared.config import Settings
from shared.mongo import until_reachable
from shared.outbox import Outbox, OutboxRelay

log = logging.getLogger(__name__)


@dataclass
class PeriodicJob:
    name: str
    every_seconds: float
    run: Callable[[], object]


class Worker:
    def __init__(self, service: str, settings: Settings, db: Database, handlers: dict[str, Handler],
                 jobs: list[PeriodicJob] | None = None, relay: bool = True):
        self.service = service
        self.settings = settings
        self.db = db
        self.stop_event = threading.Event()
        self.publisher = Publisher(settings, f"{service}-worker")
        self.outbox = Outbox(db, service)
        self.relay = OutboxRelay(self.outbox, self.publisher, poll_ms=settings.outbox_poll_ms) if relay else None
        self.runner = ConsumerRunner(settings, service, handlers, self.publisher) if handlers else None
        self.jobs = jobs or []
        self.threads: list[threading.Thread] = []

    @property
    def assigned(self) -> threading.Event:
        return self.runner.assigned if self.runner else threading.Event()

    def start(self) -> "Worker":
        if self.runner:
            self._spawn("consumer", self.runner.run, self.stop_event)
        if self.relay:
            self._spawn("relay", self.relay.run, self.stop_event)
        for job in self.jobs:
            self._spawn(job.name, self._repeat, job)
        return self

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name=f"{self.service}-{name}", daemon=True)
        thread.start()
        self.threads.append(thread)

    def _repeat(self, job: PeriodicJob) -> None:
        while not self.stop_event.is_set():
            try:
                job.run()
            except Exception:  # a failing job must not kill the worker; it runs again next tick
                log.exception("%s: periodic job %s failed", self.service, job.name)
            self.stop_event.wait(job.every_seconds)

    def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)
        self.publisher.close()

    def run_forever(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())
        self.start()
        log.info("%s worker running", self.service)
        self.stop_event.wait()
        self.stop()


def serve(build: Callable[[Settings], Worker]) -> None:
    """Entry point of `python -m services.<name>.worker`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port)
    until_reachable(lambda: build(settings), "worker start").run_forever()
