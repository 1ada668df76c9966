"""Starts the servers once per test session: the embedded ones on free ports by default, or
Kafka and MongoDB containers when LC_TEST_SERVERS=containers and Docker is available."""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from letsconnect.servers import EmbeddedServers, free_port
from tests.stack import stack, stop_shared_stack  # noqa: F401  (the whole stack, once per session: tests/browser and tests/e2e)
from tests.support import namespaced_settings


def _uses_shared_stack(item) -> bool:
    """Whether `stack` resolves to the session's whole stack (tests/stack.py) for this test: some
    modules define a fixture of that name of their own."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).get("stack") or ()
    return bool(definitions) and definitions[-1].func.__module__ == "tests.stack"


def _stack_order(item) -> int:
    if not _uses_shared_stack(item):
        return 2
    return 1 if item.get_closest_marker("stops_shared_stack") is not None else 0


def pytest_collection_modifyitems(items):
    """The tests that use the session's whole stack run first, the one that stops it last among them,
    so that the stack is gone (stopped, or by `stop_shared_stack` below) before the other tests:
    an idle stack polls its broker and database all along and slowed them by about a third."""
    items.sort(key=_stack_order)  # stable: otherwise the collection order


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    if _stack_order(item) < 2 and (nextitem is None or _stack_order(nextitem) == 2):
        stop_shared_stack()


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
