"""Shared setup for the benchmarks: embedded servers on free ports, settings in a fresh namespace."""
from __future__ import annotations

import shlex
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

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
