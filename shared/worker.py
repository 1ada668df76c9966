"""A service worker: its Kafka consumers, its outbox relay and its periodic jobs, in threads.

Scale a worker by starting more copies: consumers share the service's group (partitions split
between them); one relay at a time holds the outbox lease; periodic jobs must be idempotent.

Run as a process (`serve`), a worker exits rather than limp on: when one of its threads stopped
unexpectedly, or when the broker is no longer the one it started against (a broker that restarted
empty: its consumers' positions mean nothing there). Its supervisor (`letsconnect up`, a container's
restart policy) starts it again; effects are transactional and offsets committed after them, so an
exit at any point loses nothing.
"""
from __future__ import annotations

import faulthandler
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from typing import Callable

from prometheus_client import start_http_server
from pymongo.database import Database

from shared.broker_reset import BrokerProbe
from shared.bus import ConsumerRunner, Handler, Publisher
from shared.config import Settings
from shared.inbox import IdempotentHandler
from shared.mongo import until_reachable
from shared.outbox import ERASURE_EVENTS, Outbox, OutboxRelay

log = logging.getLogger(__name__)
EXIT_THREAD_STOPPED = 70
EXIT_BROKER_RESET = 75


class _Erasing:
    """An erasure event's handler that is not an IdempotentHandler, then the person erased from the
    service's retained outbox log (after the handler's own transaction; idempotent, so a
    redelivery does it again harmlessly)."""

    def __init__(self, handler: Handler, outbox: Outbox):
        self.handler = handler
        self.outbox = outbox

    def __call__(self, envelope: dict) -> None:
        self.handler(envelope)
        self.outbox.forget(envelope["subject"])


def erasing(handler: Handler, outbox: Outbox) -> Handler:
    """The handler of an erasure event, erasing the people from the retained log too: in the
    transaction that applies the events when it is an IdempotentHandler."""
    if isinstance(handler, IdempotentHandler):
        return handler.also_writing(lambda session, envelopes: outbox.forget_operations(
            session, {envelope["subject"] for envelope in envelopes})[0])
    return _Erasing(handler, outbox)


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
        handlers = {event_type: erasing(handler, self.outbox) if event_type in ERASURE_EVENTS else handler
                    for event_type, handler in handlers.items()}
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

    def stop(self, timeout: float | None = None) -> None:
        """Let every thread finish what it has in flight (the batch being applied and committed, the
        rows being relayed), for at most `timeout` seconds in all (LC_DRAIN_SECONDS)."""
        self.stop_event.set()
        deadline = time.monotonic() + (self.settings.drain_seconds if timeout is None else timeout)
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        unfinished = [thread.name for thread in self.threads if thread.is_alive()]
        if unfinished:
            log.warning("%s worker: still busy after the drain period: %s", self.service, ", ".join(unfinished))
        self.publisher.close()

    def run_forever(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stop_event.set())
        self.start()
        probe = BrokerProbe(self.settings, f"{self.service}-worker-probe")
        started_on = probe.cluster_id()
        log.info("%s worker running (broker cluster %s)", self.service, started_on or "not reachable yet")
        next_check = time.monotonic() + self.settings.broker_check_seconds
        while not self.stop_event.wait(1.0):
            stopped = [thread.name for thread in self.threads if not thread.is_alive()]
            if stopped:
                self._exit(EXIT_THREAD_STOPPED, "%s stopped unexpectedly; exiting to be restarted", ", ".join(stopped))
            if time.monotonic() >= next_check:
                observed = probe.cluster_id()
                if started_on is None:
                    started_on = observed
                elif observed is not None and observed != started_on:
                    self._exit(EXIT_BROKER_RESET, "the broker was reset (cluster id %s, now %s); exiting to be "
                               "restarted with consumers that read the new topics from the start", started_on, observed)
                next_check = time.monotonic() + self.settings.broker_check_seconds
        probe.close()
        self.stop()

    def _exit(self, code: int, message: str, *args) -> None:
        """Leave at once, committing nothing more: what was in flight is redelivered to the next start."""
        log.error("%s worker: " + message, self.service, *args)
        for handler in logging.getLogger().handlers:
            handler.flush()
        os._exit(code)


def serve(build: Callable[[Settings], Worker]) -> None:
    """Entry point of `python -m services.<name>.worker`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>`: every thread's stack into the log
    settings = Settings.from_env()
    if settings.worker_metrics_port:
        start_http_server(settings.worker_metrics_port)
    until_reachable(lambda: build(settings), "worker start").run_forever()
