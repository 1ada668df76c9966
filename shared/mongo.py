"""MongoDB access: one client per URI per process, one database per service, transactions."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, TypeVar

from pymongo import MongoClient
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import ClientBulkWriteException, ConnectionFailure, DuplicateKeyError
from pymongo.read_concern import ReadConcern
from pymongo.results import ClientBulkWriteResult
from pymongo.write_concern import WriteConcern

from shared.config import Settings

T = TypeVar("T")
log = logging.getLogger(__name__)
_clients: dict[str, MongoClient] = {}
_lock = threading.Lock()
_commit_hooks = threading.local()


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


def after_commit(hook: Callable[[], None]) -> None:
    """`hook()` once the transaction this thread is running (in_transaction, write_atomically) has
    committed, or at once outside one; dropped if it fails. Equal hooks run once per transaction.
    A hint, not a guarantee: what it wakes must also find the work without it."""
    pending = getattr(_commit_hooks, "pending", None)
    if pending is None:
        hook()
    else:
        pending[hook] = None


def _committing(run: Callable[[], T]) -> T:
    if getattr(_commit_hooks, "pending", None) is not None:
        return run()  # inside another transaction on this thread: the hooks wait for the outer one
    _commit_hooks.pending = {}
    try:
        result = run()
        hooks = list(_commit_hooks.pending)
    finally:
        _commit_hooks.pending = None
    for hook in hooks:
        hook()
    return result


def in_transaction(db: Database, work: Callable[[ClientSession], T]) -> T:
    """Run `work(session)` in one transaction; retried on transient errors, all or nothing."""
    def run() -> T:
        with db.client.start_session() as session:
            return session.with_transaction(
                work, read_concern=ReadConcern("snapshot"), write_concern=WriteConcern("majority"))

    return _committing(run)


def write_all(db: Database, operations: list, session: ClientSession | None = None) -> None:
    """Write models on several collections (each with its namespace) in one client-level bulk
    write, in order; nothing is sent when there are none."""
    if operations:
        db.client.bulk_write(operations, ordered=True, session=session)


def write_atomically(db: Database, operations: list | Callable[[ClientSession], list],
                     check: Callable[[ClientBulkWriteResult], None] | None = None) -> ClientBulkWriteResult:
    """All `operations` (client-level InsertOne/ReplaceOne/... with namespaces, across collections)
    in one transaction: one round trip for every write plus the commit, where in_transaction costs
    one per statement plus the commit. Given as a function of the session, they are built at each
    attempt and may read first. A duplicate key raises DuplicateKeyError; `check` may raise to
    abort after seeing the counts; transient conflicts are retried."""

    def work(session: ClientSession) -> ClientBulkWriteResult:
        try:
            result = db.client.bulk_write(operations(session) if callable(operations) else operations,
                                          ordered=True, session=session)
        except ClientBulkWriteException as exc:
            duplicate = next((e for e in exc.write_errors or [] if e.get("code") == 11000), None)
            if duplicate is not None:
                raise DuplicateKeyError(duplicate.get("errmsg", "duplicate key"), 11000, duplicate) from exc
            if exc.error is not None:
                raise exc.error from exc  # keeps its labels: with_transaction retries transient ones
            raise
        if check is not None:
            check(result)
        return result

    # Without causal consistency the first statement carries no readConcern, which a transaction
    # that only writes does not need and SecantusDB's bulkWrite refuses.
    def run() -> ClientBulkWriteResult:
        with db.client.start_session(causal_consistency=False) as session:
            return session.with_transaction(work, write_concern=WriteConcern("majority"))

    return _committing(run)


def until_reachable(action: Callable[[], T], what: str, sleep: Callable[[float], None] = time.sleep,
                    max_delay: float = 30.0) -> T:
    """`action()`, tried again with growing pauses for as long as MongoDB is unreachable (a process
    started before its database waits for it instead of failing)."""
    delay = 1.0
    while True:
        try:
            return action()
        except ConnectionFailure as exc:
            log.warning("%s: MongoDB unreachable (%s); trying again in %.0f s", what, exc, delay)
            sleep(delay)
            delay = min(delay * 2, max_delay)


def ping(db: Database) -> None:
    db.client.admin.command("ping")


def close_all() -> None:
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
