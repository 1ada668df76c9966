"""Shared setup for the benchmarks: embedded servers on free ports, settings in a fresh namespace."""
from __future__ import annotations

import http.client
import json
import shlex
import sys
import tempfile
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from letsconnect.servers import EmbeddedServers, free_port  # noqa: E402
from shared.bus import ensure_topics  # noqa: E402
from shared.config import Settings  # noqa: E402


@contextmanager
def embedded_servers():
    with tempfile.TemporaryDirectory(prefix="lc-bench-") as tmp:
        servers = EmbeddedServers(Path(tmp), free_port(), free_port(), free_port()).start()
        try:
            yield servers
        finally:
            servers.stop()


def bench_settings(servers, **overrides) -> Settings:
    ns = uuid.uuid4().hex[:8]
    settings = Settings(kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri,
                        smtp_url=servers.smtp_url, db_prefix=f"bench{ns}_", topic_prefix=f"bench{ns}-",
                        staff_tokens=("bench-staff",), data_dir=str(servers.data_dir)).with_overrides(**overrides)
    ensure_topics(settings)
    return settings


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in [".venv/bin/python", *sys.argv])


@contextmanager
def gunicorn_api(service: str, settings, workers: int = 2, threads: int = 8):
    """The service's API under gunicorn, as in production; yields its base URL."""
    import os
    import subprocess
    import time

    import requests

    port = free_port()
    env = dict(os.environ)
    env.update({"LC_KAFKA_BOOTSTRAP": settings.kafka_bootstrap, "LC_MONGO_URI": settings.mongo_uri,
                "LC_DB_PREFIX": settings.db_prefix, "LC_TOPIC_PREFIX": settings.topic_prefix,
                "LC_STAFF_TOKENS": ",".join(settings.staff_tokens), "LC_SMTP_URL": settings.smtp_url})
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen([gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads",
                                str(threads), "--worker-class", "gthread", "--log-level", "warning",
                                f"services.{service}.app:create_app()"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if requests.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(20)


class KeepAliveClient:
    """One keep-alive HTTP connection per client thread, on http.client: the load generator shares
    the machine's two cores with the servers it measures, and requests costs several times more
    CPU per call."""

    def __init__(self, base_url: str, timeout: float = 30):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = http.client.HTTPConnection(self.host, self.port,
                                                                              timeout=self.timeout)
        return connection

    def post_json(self, path: str, body) -> tuple[int, bytes]:
        payload = json.dumps(body).encode("utf-8")
        connection = self._connection()
        try:
            connection.request("POST", path, payload, {"Content-Type": "application/json"})
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self._local.connection = None
            connection.close()
            raise


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def raw_insert_rate(settings, count: int = 2000) -> float:
    """The database's raw single-document insert rate (pymongo insert_one in a loop)."""
    import time

    from shared.mongo import database

    collection = database(settings, "rawbench").docs
    started = time.perf_counter()
    for i in range(count):
        collection.insert_one({"i": i, "name": "Ahmed Example", "languages": ["ar", "en"], "pad": "x" * 300})
    return count / (time.perf_counter() - started)


def raw_produce_rate(settings, count: int) -> float:
    """kafka-python's raw produce rate (acks=all, 600-byte values) to a scratch topic no consumer reads."""
    import time

    from kafka import KafkaProducer

    ensure_topics(settings, ["bench-raw"])
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=2)
    payload = b"x" * 600
    topic = settings.topic_name("bench-raw")
    started = time.perf_counter()
    for i in range(count):
        producer.send(topic, key=str(i % 97).encode(), value=payload)
    producer.flush()
    elapsed = time.perf_counter() - started
    producer.close()
    return count / elapsed
