"""The resources worker (python -m services.resources.worker): recordings from completed
sessions, erasure, token subjects and staff-added topics, and the outbox relay."""
from __future__ import annotations

from shared.config import Settings
from shared.inbox import Inbox
from shared.mongo import database
from shared.worker import Worker, serve

from services.resources import SERVICE
from services.resources.handlers import handlers
from services.resources.service import ResourcesService
from services.resources.store import Store


def build_worker(settings: Settings) -> Worker:
    store = Store(database(settings, SERVICE))
    store.ensure_indexes()
    return Worker(SERVICE, settings, store.db, handlers=handlers(ResourcesService(store), Inbox(store.db, SERVICE)))


if __name__ == "__main__":
    serve(build_worker)
