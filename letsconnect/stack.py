"""`letsconnect up`: the embedded servers, the topics, five APIs under gunicorn, five workers and
the portal, kept running.

Supervision: a process that dies is started again after growing pauses (letsconnect.supervision),
said on the output and in logs/letsconnect-up.log; one that keeps crashing is given up on, the rest
keeps running. When the broker dies the workers are stopped before it comes back and started after
its topics exist again: the new broker is empty, and workers that kept their old positions on it
would skip what the relays publish again (shared.outbox).

A stop (Ctrl-C, SIGTERM) drains: the APIs first, then the workers finish what they have in flight
(LC_DRAIN_SECONDS), then the mail sink, the broker and the database.

A start after a `letsconnect up` that was killed stops what that run left running (letsconnect.leftovers).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import psutil
import requests

from letsconnect.leftovers import RunRecord, signal_group, still_running, stop_groups
from letsconnect.servers import SERVER_NAMES, EmbeddedServers, StackError, port_taken, servers_from_env
from letsconnect.supervision import RestartPolicy, describe_exit
from shared.bus import ensure_topics
from shared.config import SERVICES, Settings, env_float, env_int

BROKER = "tansu"
# The order of a stop: what takes requests first, what holds the data last.
STOP_ORDER = ("api", "worker", "mailsink", "tansu", "secantusdb")


@dataclass
class Child:
    name: str
    kind: str  # "server", "api" or "worker"
    process: subprocess.Popen | None = None
    crashes: list[float] = field(default_factory=list)
    restart_at: float | None = None
    given_up: bool = False
    held: bool = False  # stopped on purpose: a worker while the broker comes back

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def restart_policy_from_env() -> RestartPolicy:
    return RestartPolicy(max_crashes=env_int("LC_RESTART_MAX_CRASHES", 5),
                         window_seconds=env_float("LC_RESTART_WINDOW_SECONDS", 60.0))


class Stack:
    def __init__(self, settings: Settings, servers: EmbeddedServers, api_workers: int = 2, api_threads: int = 4,
                 policy: RestartPolicy | None = None, say: Callable[[str], None] = print,
                 portal_port: int | None = None):
        self.portal_port = portal_port or env_int("LC_PORTAL_PORT", 8000)
        portal_url = os.environ.get("LC_PORTAL_URL") or f"http://{settings.host}:{self.portal_port}"
        self.settings = settings.with_overrides(
            kafka_bootstrap=servers.kafka_bootstrap, mongo_uri=servers.mongo_uri, smtp_url=servers.smtp_url,
            portal_url=portal_url)
        self.servers = servers
        self.api_workers = api_workers
        self.api_threads = api_threads
        self.policy = policy or RestartPolicy()
        self._say = say
        self.children: dict[str, Child] = {name: Child(name, "server") for name in SERVER_NAMES}
        for service in SERVICES:
            self.children[f"{service}-api"] = Child(f"{service}-api", "api")
            self.children[f"{service}-worker"] = Child(f"{service}-worker", "worker")
        self.children["portal-api"] = Child("portal-api", "api")  # web pages over the five APIs, no database
        self.pid_file = servers.data_dir / "stack.pid"
        self.record = RunRecord(servers.data_dir)
        self.restarts = 0
        self._claimed = False

    # -- output ----------------------------------------------------------------------------

    def say(self, message: str, to_stderr: bool = False) -> None:
        """On the output and in logs/letsconnect-up.log."""
        if to_stderr:
            print(f"letsconnect up: {message}", file=sys.stderr, flush=True)
        else:
            self._say(f"letsconnect up: {message}")
            sys.stdout.flush()
        try:
            self.servers.log_dir.mkdir(parents=True, exist_ok=True)
            with open(self.servers.log_dir / "letsconnect-up.log", "a", encoding="utf-8") as log:
                log.write(f"{datetime.now().isoformat(timespec='seconds')} {message}\n")
        except OSError:
            pass

    # -- starting --------------------------------------------------------------------------

    def child_env(self, service: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "LC_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap, "LC_MONGO_URI": self.settings.mongo_uri,
            "LC_SMTP_URL": self.settings.smtp_url, "LC_DATA_DIR": str(self.servers.data_dir),
            "PROMETHEUS_MULTIPROC_DIR": str(self.servers.data_dir / "metrics" / service), "PYTHONUNBUFFERED": "1",
        })
        env.update({f"LC_{name.upper()}_PORT": str(port) for name, port in self.settings.ports.items()})
        env.update({"LC_PORTAL_PORT": str(self.portal_port), "LC_PORTAL_URL": self.settings.portal_url})
        return env

    def command(self, child: Child) -> tuple[list[str], dict[str, str] | None]:
        if child.kind == "server":
            return self.servers.command(child.name), None
        service = child.name.rsplit("-", 1)[0]
        if child.kind == "worker":
            return [sys.executable, "-m", f"services.{service}.worker"], self.child_env(service)
        gunicorn = str(Path(sys.executable).parent / "gunicorn")
        port = self.portal_port if service == "portal" else self.settings.ports[service]
        threads = 8 if service == "portal" else self.api_threads  # the portal waits on the APIs
        return [gunicorn, "--config=python:shared.gunicorn_config", "--bind", f"{self.settings.host}:{port}",
                "--workers", str(self.api_workers), "--threads", str(threads), "--worker-class", "gthread",
                "--timeout", "60", "--graceful-timeout", "5", "--access-logfile", "-",
                "--name", f"letsconnect-{service}", f"services.{service}.app:create_app()"], self.child_env(service)

    def _spawn(self, child: Child) -> subprocess.Popen:
        if child.process is not None:
            signal_group(child.process.pid, signal.SIGKILL)  # what the dead one started (gunicorn workers)
        command, env = self.command(child)
        self.servers.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.servers.log_dir / f"{child.name}.log", "ab") as log:
            child.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                             stdin=subprocess.DEVNULL, start_new_session=True)
        self._write_record()
        return child.process

    def _write_record(self) -> None:
        self.record.write({name: child.process.pid for name, child in self.children.items()
                           if child.process is not None and child.process.poll() is None})

    def _claim(self) -> None:
        self.servers.data_dir.mkdir(parents=True, exist_ok=True)
        owner, leftovers = self.record.read()
        if owner is not None and still_running(owner):
            raise StackError(f"a stack is already running from {self.servers.data_dir} (pid {owner.pid}); "
                             "stop it first or set LC_DATA_DIR")
        if owner is None and self.pid_file.exists():  # a run from before stack.json existed
            try:
                pid = int(self.pid_file.read_text().strip())
            except ValueError:
                pid = 0
            if pid and pid != os.getpid() and psutil.pid_exists(pid) and "letsconnect" in " ".join(_cmdline(pid)):
                raise StackError(f"a stack is already running from {self.servers.data_dir} (pid {pid}); "
                                 "stop it first or set LC_DATA_DIR")
        self._clean_up_after(owner, leftovers)
        taken = [f"{name} on {port}" for name, port in {**self.settings.ports, "portal": self.portal_port}.items()
                 if port_taken(port, self.settings.host)]
        if taken:
            raise StackError("port already in use: " + ", ".join(taken) + " (set LC_<SERVICE>_PORT)")
        self.servers.check_ports()
        self.pid_file.write_text(str(os.getpid()))
        self.record.write({})
        self._claimed = True

    def _clean_up_after(self, owner, leftovers) -> None:
        """Stop what a killed run left running, in the order of a stop; drop its stale files."""
        alive = [entry for entry in leftovers if still_running(entry)]
        if alive:
            self.say(f"the previous run (pid {owner.pid if owner else '?'}) did not stop; stopping the "
                     f"{len(alive)} processes it left running: {', '.join(entry.name for entry in alive)}")
            ranked: dict[int, list[int]] = {}
            for entry in alive:
                kind = "server" if entry.name in SERVER_NAMES else entry.name.rsplit("-", 1)[1]
                rank = STOP_ORDER.index(entry.name if kind == "server" else kind)
                ranked.setdefault(rank, []).append(entry.pid)
            for rank in sorted(ranked):
                stop_groups(ranked[rank], grace=self.settings.drain_seconds if STOP_ORDER[rank] == "worker" else 15)
        elif owner is not None:
            self.say(f"the previous run (pid {owner.pid}) did not stop cleanly; nothing of it is still running")
        self.record.remove()
        self.pid_file.unlink(missing_ok=True)

    def start(self, stop: threading.Event | None = None) -> None:
        self._claim()
        self.say(f"starting Tansu, SecantusDB and the mail sink under {self.servers.data_dir}/ ...")
        shutil.rmtree(self.servers.data_dir / "metrics", ignore_errors=True)
        for service in (*SERVICES, "portal"):
            (self.servers.data_dir / "metrics" / service).mkdir(parents=True, exist_ok=True)
        for name in SERVER_NAMES:
            self._spawn(self.children[name])
        for name in SERVER_NAMES:
            self.servers.wait_started(name, self.children[name].process)
        ensure_topics(self.settings)
        for child in self.children.values():
            if child.kind != "server":
                self._spawn(child)
        self.wait_ready(stop=stop)

    def wait_ready(self, timeout: float = 120, stop: threading.Event | None = None) -> None:
        deadline = time.time() + timeout
        pending = {*SERVICES, "portal"}
        while pending and time.time() < deadline and not (stop and stop.is_set()):
            for name, child in self.children.items():
                if child.process is not None and child.process.poll() is not None:
                    raise StackError(f"{name} exited ({describe_exit(child.process.returncode)}); see "
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
        if pending and not (stop and stop.is_set()):
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
            "A process that stops is started again. Press Ctrl-C to stop.",
        ])

    # -- keeping it running ----------------------------------------------------------------

    def supervise_once(self, now: float | None = None) -> None:
        """Notice processes that died; start again those whose pause is over."""
        now = time.time() if now is None else now
        for child in self.children.values():
            if child.process is not None and child.process.poll() is not None and child.restart_at is None \
                    and not child.held and not child.given_up:
                self._crashed(child, now)
        for child in self.children.values():
            if child.restart_at is not None and now >= child.restart_at:
                self._restart(child)

    def _crashed(self, child: Child, now: float) -> None:
        how = describe_exit(child.process.returncode)
        signal_group(child.process.pid, signal.SIGKILL)
        child.crashes.append(now)
        delay = self.policy.delay(child.crashes, now)
        recent = len(self.policy.recent(child.crashes, now))
        if delay is None:
            child.given_up = True
            self.say(f"{child.name} exited ({how}); giving up after {recent} crashes within "
                     f"{self.policy.window_seconds:.0f} s; the rest keeps running "
                     f"(see {self.servers.log_dir / (child.name + '.log')})", to_stderr=True)
        else:
            child.restart_at = now + delay
            self.say(f"{child.name} exited ({how}); restarting in {delay:.0f} s "
                     f"(crash {recent} of {self.policy.max_crashes} allowed within {self.policy.window_seconds:.0f} s)")
        self._write_record()
        if child.name == BROKER:
            self._hold_workers()

    def _hold_workers(self) -> None:
        """Stop the workers while the broker is away: the one that comes back is empty."""
        workers = [child for child in self.children.values() if child.kind == "worker" and not child.given_up]
        for child in workers:
            child.held = True
            child.restart_at = None
        running = [child for child in workers if child.running]
        if running:
            self.say("stopping the workers until the broker is back (it comes back empty; they will read its "
                     "topics from the start)")
            self._stop_children(running, grace=min(5.0, self.settings.drain_seconds))

    def _restart(self, child: Child) -> None:
        child.restart_at = None
        process = self._spawn(child)
        if child.kind == "server":
            try:
                self.servers.wait_started(child.name, process)
                if child.name == BROKER:
                    ensure_topics(self.settings)
            except Exception as exc:  # did not come up: counts as another crash
                self.say(f"{child.name} did not start: {exc}")
                if process.poll() is None:
                    signal_group(process.pid, signal.SIGKILL)
                    process.wait()
                self._crashed(child, time.time())
                return
        self.restarts += 1
        self.say(f"{child.name} restarted (pid {process.pid})")
        if child.name == BROKER:
            for worker in self.children.values():
                if worker.held:
                    worker.held = False
                    self._spawn(worker)
                    self.restarts += 1
                    self.say(f"{worker.name} restarted (pid {worker.process.pid})")

    # -- stopping --------------------------------------------------------------------------

    def _stop_children(self, children: list[Child], grace: float) -> None:
        live = [child for child in children if child.running]
        for child in live:
            child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in live:
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(f"{child.name} did not stop within {grace:.0f} s; killing it")
        for child in children:
            if child.process is not None:
                signal_group(child.process.pid, signal.SIGKILL)
                try:
                    child.process.wait(5)
                except subprocess.TimeoutExpired:
                    pass

    def stop(self) -> None:
        """APIs first, then workers finish what they have in flight, then mail, broker, database."""
        for child in self.children.values():
            child.restart_at = None

        def of(*kinds: str) -> list[Child]:
            return [c for c in self.children.values() if c.kind in kinds or c.name in kinds]

        if any(c.running for c in of("api")):
            self.say("stopping the APIs")
        self._stop_children(of("api"), grace=10.0)
        if any(c.running for c in of("worker")):
            self.say(f"letting the workers finish what they have in flight (at most {self.settings.drain_seconds:.0f} s)")
        self._stop_children(of("worker"), grace=self.settings.drain_seconds + 2)
        if any(c.running for c in of("server")):
            self.say("stopping the mail sink, the broker and the database")
        for name in ("mailsink", "tansu", "secantusdb"):
            self._stop_children(of(name), grace=30.0 if name == "secantusdb" else 10.0)
        if self._claimed:
            self.record.remove()
            if self.pid_file.exists() and self.pid_file.read_text().strip() == str(os.getpid()):
                self.pid_file.unlink()

    @property
    def given_up(self) -> list[str]:
        return [child.name for child in self.children.values() if child.given_up]


def _cmdline(pid: int) -> list[str]:
    try:
        return psutil.Process(pid).cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return []


def up(settings: Settings) -> int:
    data_dir = Path(settings.data_dir).resolve()
    stack = Stack(settings, servers_from_env(data_dir), policy=restart_policy_from_env())
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack.start(stop=stop)
    except StackError as exc:
        stack.say(str(exc), to_stderr=True)
        stack.stop()
        return 1
    if not stop.is_set():
        print(stack.describe(), flush=True)
    try:
        while not stop.wait(0.3):
            stack.supervise_once()
    finally:
        print("stopping ...", flush=True)
        stack.stop()
        print("stopped.", flush=True)
    return 1 if stack.given_up else 0
