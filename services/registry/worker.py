"""The registry worker (python -m services.registry.worker): its outbox relay and periodic jobs."""
from __future__ import annotations

from shared.config import Settings
from shared.inbox import Inbox
from shared.mongo import database
from shared.worker import PeriodicJob, Worker, serve

from services.registry import SERVICE
from services.registry.config import RegistryConfig
from services.registry.handlers import handlers
from services.registry.service import RegistryService
from services.registry.store import Store


def build_worker(settings: Settings, config: RegistryConfig | None = None) -> Worker:
    store = Store(database(settings, SERVICE))
    config = config or RegistryConfig.from_env()
    service = RegistryService(store, settings, config)
    return Worker(SERVICE, settings, store.db, handlers=handlers(service, Inbox(store.db, SERVICE)), jobs=[
        PeriodicJob("sign-in-purge", config.sign_in_purge_seconds, service.sign_in.purge_expired)])


if __name__ == "__main__":
    serve(build_worker)
