"""Starts the servers once per test session: the embedded ones on free ports by default, or
Kafka and MongoDB containers when LC_TEST_SERVERS=containers and Docker is available."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from letsconnect.servers import EmbeddedServers, free_port
from tests.stack import stack  # noqa: F401  (the whole stack, once per session: tests/browser and tests/e2e)
from tests.support import NAMESPACES, namespaced_settings, remove_namespaces


def pytest_collection_modifyitems(items):
    """The tests on the shared stack run first, then the one that stops it, then the others: the
    idle stack's processes do not compete with the rest of the session (the sort is stable)."""
    def order(item) -> int:
        if item.get_closest_marker("stops_shared_stack") is not None:
            return 1
        on_shared_stack = "stack" in item.fixturenames and item.path.parent.name in ("browser", "e2e")
        return 0 if on_shared_stack else 2

    items.sort(key=order)


@dataclass
class ContainerServers:
    kafka_bootstrap: str
    mongo_uri: str
    smtp_url: str
    maildir: Path
    data_dir: Path


def _containers(tmp: Path):
    from testcontainers.kafka import KafkaContainer
    from testcontainers.mongodb import MongoDbContainer

    from letsconnect.mailsink import start_sink

    kafka = KafkaContainer().with_kraft().start()
    mongo = MongoDbContainer("mongo:7").with_command("--replSet rs0 --bind_ip_all").start()
    mongo.exec("mongosh --quiet --eval \"rs.initiate()\"")
    smtp_port = free_port()
    sink = start_sink("127.0.0.1", smtp_port, tmp / "mail")
    servers = ContainerServers(kafka.get_bootstrap_server(),
                               mongo.get_connection_url() + "/?directConnection=true",
                               f"smtp://127.0.0.1:{smtp_port}", tmp / "mail", tmp)
    return servers, lambda: (sink.stop(), kafka.stop(), mongo.stop())


@pytest.fixture(scope="session")
def servers(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stack")
    if os.environ.get("LC_TEST_SERVERS") == "containers" and shutil.which("docker"):
        found, stop = _containers(tmp)
        yield found
        stop()
        return
    embedded = EmbeddedServers(data_dir=tmp, kafka_port=free_port(), mongo_port=free_port(),
                               smtp_port=free_port()).start()
    yield embedded
    embedded.stop()


@pytest.fixture
def settings(servers):
    return namespaced_settings(servers)


@pytest.fixture(scope="module", autouse=True)
def namespaces_end_with_their_module():
    """The namespaces a module made are removed when it ends (after its own module fixtures, which
    an autouse fixture of the same scope outlives): the session's broker stays small."""
    first = len(NAMESPACES)
    yield
    remove_namespaces(NAMESPACES[first:])
    del NAMESPACES[first:]
