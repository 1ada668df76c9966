"""`letsconnect up`: the embedded servers, the topics, five APIs under gunicorn and five workers."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from letsconnect.servers import EmbeddedServers, StackError, port_taken, servers_from_env
from shared.bus import ensure_topics
from shared.config import SERVICES, Settings, env_int


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class Stack:
    def __init__(self, settings: Settings, servers: EmbeddedServers, api_workers: int = 2, api_threads: int = 4,
                 portal_port: int | None = None):
        self.portal_port = portal_port or env_int("LC_PORTAL_PORT", 8000)
        portal_url = os.environ.get("LC_PORTAL_URL") or f"http://{settings.host}:{self.portal_port}"
        self.settings = settings.with_overrides(
            kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri, smtp_url=servers.smtp_url,
            portal_url=portal_url)
        self.servers = servers
        self.api_workers = api_workers
        self.api_threads = api_threads
        self.children: dict[str, subprocess.Popen] = {}
        self.pid_file = servers.data_dir / "stack.pid"

    def child_env(self, service: str) -> dict[str, str]:
        metrics_dir = self.servers.data_dir / "metrics" / service
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update({
            "LC_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap, "LC_MONGO_URI": self.settings.mongo_uri,
            "LC_SMTP_URL": self.settings.smtp_url, "LC_DATA_DIR": str(self.servers.data_dir),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "PYTHONUNBUFFERED": "1",
        })
        env.update({f"LC_{name.upper()}_PORT": str(port) for name, port in self.settings.ports.items()})
        env.update({"LC_PORTAL_PORT": str(self.portal_port), "LC_PORTAL_URL": self.settings.portal_url})
        return env

    def _claim(self) -> None:
        if self.pid_file.exists():
            try:
                pid = int(self.pid_file.read_text().strip())
            except ValueError:
                pid = 0
            if pid and _pid_alive(pid):
                raise StackError(f"a stack is already running from {self.servers.data_dir} (pid {pid}); "
                                 "stop it first or set LC_DATA_DIR")
        taken = [f"{name} on {port}" for name, port in {**self.settings.ports, "portal": self.portal_port}.items()
                 if port_taken(port, self.settings.host)]
        if taken:
            raise StackError("port already in use: " + ", ".join(taken) + " (set LC_<SERVICE>_PORT)")
        self.servers.check_ports()
        self.servers.data_dir.mkdir(parents=True, exist_ok=True)
        self.pid_file.write_text(str(os.getpid()))

    def _spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = open(self.servers.log_dir / f"{name}.log", "ab")
        self.children[name] = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL, start_new_session=True)

    def start(self, announce=print) -> None:
        self._claim()
        announce(f"starting Tansu, SecantusDB and the mail sink under {self.servers.data_dir}/ ...")
        self.servers.start()
        ensure_topics(self.settings)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        for service in SERVICES:
            env = self.child_env(service)
            port = self.settings.ports[service]
            self._spawn(f"{service}-api", [
                gunicorn, "--bind", f"{self.settings.host}:{port}", "--workers", str(self.api_workers),
                "--threads", str(self.api_threads), "--worker-class", "gthread", "--timeout", "60",
                "--graceful-timeout", "5", "--access-logfile", "-", "--name", f"letsconnect-{service}",
                f"services.{service}.app:create_app()"], env)
            self._spawn(f"{service}-worker", [sys.executable, "-m", f"services.{service}.worker"], env)
        # The portal: web pages over the five APIs (no worker, no database of its own).
        self._spawn("portal", [
            gunicorn, "--bind", f"{self.settings.host}:{self.portal_port}", "--workers", str(self.api_workers),
            "--threads", "8", "--worker-class", "gthread", "--timeout", "60", "--graceful-timeout", "5",
            "--access-logfile", "-", "--name", "letsconnect-portal", "services.portal.app:create_app()"],
            self.child_env("portal"))
        self.wait_ready()

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.time() + timeout
        pending = {*SERVICES, "portal"}
        while pending and time.time() < deadline:
            for name, child in self.children.items():
                if child.poll() is not None:
                    raise StackError(f"{name} exited with status {child.returncode}; see "
                                     f"{self.servers.log_dir / (name + '.log')}")
            for service in sorted(pending):
                try:
                    port = self.portal_port if service == "portal" else self.settings.ports[service]
                    url = f"http://{self.settings.host}:{port}/readyz"
                    if requests.get(url, timeout=2).status_code == 200:
                        pending.discard(service)
                except requests.RequestException:
                    pass
            time.sleep(0.3)
        if pending:
            raise StackError(f"not ready after {timeout:.0f}s: {', '.join(sorted(pending))}; see "
                             f"{self.servers.log_dir}/")

    def describe(self) -> str:
        host = self.settings.host
        rows = [f"  {name:<10} http://{host}:{port}  (API docs: /openapi.json, /docs)"
                for name, port in self.settings.ports.items()]
        return "\n".join([
            "Let's Connect is running:",
            f"  portal     http://{host}:{self.portal_port}  (start here: the participants' web pages)", *rows,
            f"  Kafka      {self.settings.kafka_bootstrap} (Tansu)",
            f"  MongoDB    {self.settings.mongo_uri} (SecantusDB, data in {self.servers.data_dir / 'mongo'})",
            f"  SMTP sink  {self.settings.smtp_url} (mail in {self.servers.maildir}/new)",
            f"  logs       {self.servers.log_dir}/",
            f"  staff token: {self.settings.staff_tokens[0] if self.settings.staff_tokens else '(none set)'}",
            "Press Ctrl-C to stop.",
        ])

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.children.clear()
        self.servers.stop()
        if self.pid_file.exists() and self.pid_file.read_text().strip() == str(os.getpid()):
            self.pid_file.unlink()


def up(settings: Settings) -> int:
    data_dir = Path(settings.data_dir).resolve()
    stack = Stack(settings, servers_from_env(data_dir))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack.start()
    except StackError as exc:
        print(f"letsconnect up: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    print(stack.describe(), flush=True)
    try:
        while not stop.wait(1):
            for name, child in stack.children.items():
                if child.poll() is not None:
                    print(f"letsconnect up: {name} exited ({child.returncode}); stopping", file=sys.stderr)
                    stop.set()
    finally:
        print("stopping ...", flush=True)
        stack.stop()
    return 0
