"""The matcher worker: its consumers and its outbox relay (python -m services.matcher.worker)."""
from __future__ import annotations

from shared.config import Settings
from shared.mongo import database
from shared.worker import Worker, serve

from services.matcher import SERVICE


def build_worker(settings: Settings) -> Worker:
    return Worker(SERVICE, settings, database(settings, SERVICE), handlers={})


if __name__ == "__main__":
    serve(build_worker)
