"""The matcher worker: read model from registry events, incremental proposals, expiry, relay."""
from __future__ import annotations

from shared.config import Settings
from shared.inbox import Inbox
from shared.mongo import database
from shared.worker import PeriodicJob, Worker, serve

from services.matcher import SERVICE
from services.matcher.config import MatcherConfig
from services.matcher.handlers import handlers
from services.matcher.service import MatcherService
from services.matcher.store import Store


def build_worker(settings: Settings, config: MatcherConfig | None = None, clock=None) -> Worker:
    store = Store(database(settings, SERVICE))
    store.ensure_indexes()
    service = MatcherService(store, config or MatcherConfig.from_env(), clock)
    return Worker(SERVICE, settings, store.db, handlers=handlers(service, Inbox(store.db, SERVICE)),
                  jobs=[PeriodicJob("expire-proposals", service.config.expiry_check_seconds, service.expire),
                        PeriodicJob("rounds", service.config.round_poll_seconds, service.work_rounds),
                        PeriodicJob("round-schedule", service.config.schedule_check_seconds, service.schedule_tick)])


if __name__ == "__main__":
    serve(build_worker)
