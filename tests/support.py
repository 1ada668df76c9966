"""Helpers the integration and end-to-end tests share."""
from __future__ import annotations

import json
import time
import uuid
import warnings
from contextlib import contextmanager

from kafka import KafkaAdminClient

from shared.bus import ensure_topics
from shared.config import Settings
from shared.events import ALL_TOPICS
from shared.mongo import client_for

STAFF = "staff-test-token"
STAFF_HEADERS = {"Authorization": f"Bearer {STAFF}"}


def namespaced_settings(servers, **overrides) -> Settings:
    """Settings on the session's servers with a database and topic namespace of their own."""
    ns = uuid.uuid4().hex[:10]
    settings = Settings(
        kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri, smtp_url=servers.smtp_url,
        db_prefix=f"t{ns}_", topic_prefix=f"t{ns}-", staff_tokens=(STAFF,),
        secret_keys={"k1": "test-secret"}, retry_backoff_ms=20, retry_attempts=3, outbox_poll_ms=10,
        data_dir=str(servers.data_dir),
    ).with_overrides(**overrides)
    ensure_topics(settings)
    NAMESPACES.append(settings)
    return settings


NAMESPACES: list[Settings] = []  # every namespace made this session, in order (see remove_namespaces)


def remove_namespaces(namespaces: list[Settings]) -> None:
    """Delete the namespaces' topics and databases (tests/conftest.py: when the module that made
    them ends). The session's broker and database then hold only the live ones: every Kafka client
    asks for the metadata of every topic when it connects, and that grows with each namespace left."""
    for settings in namespaces:
        try:
            admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="tests-cleanup")
            try:
                admin.delete_topics([settings.topic_name(name) for name in ALL_TOPICS], raise_errors=False)
            finally:
                admin.close()
            client = client_for(settings.mongo_uri)
            for name in client.list_database_names():
                if name.startswith(settings.db_prefix):
                    client.drop_database(name)
        except Exception as exc:  # a server a test stopped: the namespace only costs time, not a result
            warnings.warn(f"namespace {settings.topic_prefix} left in place: {exc}")


def eventually(check, timeout: float = 20.0, interval: float = 0.1, message: str = "condition not met"):
    """Poll `check()` until it returns something truthy; returns that value."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{message} within {timeout}s (last: {last!r})")


def documents_naming(db, *needles: str, leave_out: tuple[str, ...] = ()) -> list[tuple[str, dict]]:
    """(collection, document) of every document of `db` whose text holds one of `needles`."""
    return [(name, doc) for name in sorted(db.list_collection_names()) if name not in leave_out
            for doc in db[name].find() if any(needle in json.dumps(doc, default=str) for needle in needles)]


@contextmanager
def running(*workers, timeout: float = 30.0):
    """Start workers, wait until each consumer owns partitions, stop them afterwards."""
    for worker in workers:
        worker.start()
    try:
        for worker in workers:
            if worker.runner is not None:
                assert worker.assigned.wait(timeout), f"{worker.service} worker got no partitions"
        yield workers[0] if len(workers) == 1 else workers
    finally:
        for worker in workers:
            worker.stop()


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _without_authors(value):
    if isinstance(value, dict):
        return {k: _without_authors(v) for k, v in value.items() if k != "authors"}
    if isinstance(value, list):
        return [_without_authors(v) for v in value]
    return value


def erasure_exceptions(service: str, collection: str, doc: dict) -> dict:
    """A stored document without what docs/security.md says outlives an erased person, for the
    erasure scans: a published resource's `authors` text (in the resources service's records and in
    the events it published), and the withdrawal event itself in a retained outbox log (with the
    identifiers it indexes under `mentions`)."""
    from shared.outbox import ERASURE_EVENTS, mentions

    if collection in ("outbox", "outbox_log"):
        events = doc.get("events") or []
        excused = set()
        for event in events:
            if event["type"] in ERASURE_EVENTS:
                excused |= mentions(event)
            if service == "resources":
                excused |= set((event.get("data") or {}).get("authors") or [])
        doc = {**doc, "events": [e for e in events if e["type"] not in ERASURE_EVENTS],
               "mentions": [m for m in doc.get("mentions") or [] if m not in excused]}
    return _without_authors(doc) if service == "resources" else doc
