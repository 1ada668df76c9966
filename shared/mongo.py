"""MongoDB access: one client per URI per process, one database per service, transactions."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.read_concern import ReadConcern
from pymongo.write_concern import WriteConcern

from shared.config import Settings

T = TypeVar("T")
_clients: dict[str, MongoClient] = {}
_lock = threading.Lock()


def client_for(uri: str) -> MongoClient:
    with _lock:
        client = _clients.get(uri)
        if client is None:
            client = MongoClient(uri, serverSelectionTimeoutMS=5000, connectTimeoutMS=3000, tz_aware=True,
                                 uuidRepresentation="standard")
            _clients[uri] = client
        return client


def database(settings: Settings, service: str) -> Database:
    return client_for(settings.mongo_uri).get_database(
        settings.database_name(service), write_concern=WriteConcern("majority"))


def in_transaction(db: Database, work: Callable[[ClientSession], T]) -> T:
    """Run `work(session)` in one transaction; retried on transient errors, all or nothing."""
    with db.client.start_session() as session:
        return session.with_transaction(
            work, read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority"))


def ping(db: Database) -> None:
    db.client.admin.command("ping")


def close_all() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
