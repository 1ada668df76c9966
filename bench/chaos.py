"""Chaos benchmark: the demo population runs through `letsconnect up` while a random process of the
stack (an API, a worker, the broker, the database, the mail sink, or `letsconnect up` itself) is
killed with SIGKILL every few seconds for a minute; then every invariant is checked (every
registration known to every service that consumes it, one welcome per person, one proposal email
per proposal and recipient, no sharer over capacity, no clinic overbooked, the report's figures equal
to the stored data).

Prints the faults injected, the restarts, the time to recover after each fault (p50/p95), twice:
until the killed process runs again and every API answers /readyz, and end to end, until a
registration made right after the kill is known to the matcher, the scheduler and the notifier
(which includes working off what piled up meanwhile); and the invariant violations (target: 0).

    .venv/bin/python bench/chaos.py [--participants 140] [--seconds 60] [--every 5] [--seed 7]
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from _stack import command_line, percentile

from letsconnect.chaos import CONSUMERS_OF_REGISTRATIONS, Invariants, StackProcesses, applicants
from letsconnect.client import Platform
from letsconnect.demo import run_demo
from letsconnect.servers import free_port
from shared.config import SERVICES, Settings

STAFF = "chaos-staff-token"
SUPERVISOR = "letsconnect-up"


def stack_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({f"LC_{s.upper()}_PORT": str(free_port()) for s in SERVICES})
    env.update({"LC_DATA_DIR": str(data_dir), "LC_KAFKA_PORT": str(free_port()), "LC_MONGO_PORT": str(free_port()),
                "LC_SMTP_PORT": str(free_port()), "LC_STAFF_TOKENS": STAFF,
                # a message that met the mail sink away is tried again within seconds, not minutes
                "LC_NOTIFIER_RETRY_BASE_SECONDS": "5", "LC_NOTIFIER_RETRY_MAX_SECONDS": "30"})
    return env


class Stack:
    """`letsconnect up` as a subprocess, started again after it is killed."""

    def __init__(self, data_dir: Path, env: dict[str, str]):
        self.data_dir, self.env = data_dir, env
        self.output = data_dir / "up.out"
        self.process: subprocess.Popen | None = None
        self.launches = 0

    def launch(self, timeout: float = 300) -> None:
        seen = self.output.read_text(errors="replace").count("is running") if self.output.exists() else 0
        self.process = subprocess.Popen([str(Path(sys.executable).parent / "letsconnect"), "up"], env=self.env,
                                        stdout=open(self.output, "ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.launches += 1
        deadline = time.monotonic() + timeout
        while self.output.read_text(errors="replace").count("is running") <= seen:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"letsconnect up did not start:\n{self.output.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(180)

    def restarts(self) -> int:
        return self.output.read_text(errors="replace").count(" restarted (pid ")


class Recovery:
    """After a fault: how long until the process runs again and every API is ready, and how long
    until a registration made right after it is known everywhere."""

    def __init__(self, platform: Platform, invariants: Invariants, processes: StackProcesses):
        self.platform, self.invariants, self.processes = platform, invariants, processes
        self.bodies = applicants(seed=9_999)
        self.lock = threading.Lock()
        self.back: list[float] = []
        self.times: list[float] = []
        self.canaries: set[str] = set()
        self.unrecovered = 0
        self.threads: list[threading.Thread] = []

    def measure(self, name: str, old_pid: int | None, killed_at: float) -> None:
        for target, arguments in ((self._canary, (killed_at,)), (self._back, (name, old_pid, killed_at))):
            thread = threading.Thread(target=target, args=arguments, daemon=True)
            thread.start()
            self.threads.append(thread)

    def _back(self, name: str, old_pid: int | None, killed_at: float) -> None:
        try:
            if name != SUPERVISOR:
                self.processes.wait_replaced(name, old_pid, timeout=600)
            self.platform.wait_ready(timeout=600)
        except (TimeoutError, RuntimeError):
            return
        with self.lock:
            self.back.append(time.monotonic() - killed_at)

    def _canary(self, killed_at: float) -> None:
        with self.lock:
            body = next(self.bodies)
        deadline = time.monotonic() + 600
        try:
            created = self.platform.json("POST", "registry", "/participants", json=body, expect=(201,))
        except Exception:
            with self.lock:
                self.unrecovered += 1
            return
        with self.lock:
            self.canaries.add(created["id"])
        while time.monotonic() < deadline:
            try:
                if all(self.invariants.db(service)[collection].find_one({"_id": created["id"]}, {"_id": 1})
                       for service, collection in CONSUMERS_OF_REGISTRATIONS.items()):
                    with self.lock:
                        self.times.append(time.monotonic() - killed_at)
                    return
            except Exception:  # the database itself may be the one away
                pass
            time.sleep(0.25)
        with self.lock:
            self.unrecovered += 1

    def wait(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=140, help="the demo population's size")
    parser.add_argument("--seconds", type=float, default=60, help="how long faults are injected")
    parser.add_argument("--every", type=float, default=5, help="seconds between two faults")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="lc-chaos-") as tmp:
        data_dir = Path(tmp)
        env = stack_env(data_dir)
        stack = Stack(data_dir, env)
        stack.launch()
        ports = {s: int(env[f"LC_{s.upper()}_PORT"]) for s in SERVICES}
        settings = Settings(ports=ports, staff_tokens=(STAFF,), data_dir=str(data_dir))
        platform = Platform.from_settings(settings)
        platform.retry_seconds = 300
        invariants = Invariants(f"mongodb://127.0.0.1:{env['LC_MONGO_PORT']}/?directConnection=true",
                                data_dir / "mail", platform)
        processes = StackProcesses(data_dir)
        recovery = Recovery(Platform.from_settings(settings), invariants, processes)
        recovery.platform.retry_seconds = 300
        demo: dict = {}

        def run() -> None:
            try:
                demo["result"] = run_demo(platform, settings, participants=args.participants, seed=args.seed)
            except Exception as exc:  # reported with the figures
                demo["error"] = f"{type(exc).__name__}: {exc}"

        demo_thread = threading.Thread(target=run, name="demo", daemon=True)
        demo_thread.start()
        faults: Counter = Counter()
        started = time.monotonic()
        relaunching = 0.0  # the minute of faults counts only while a `letsconnect up` runs
        while time.monotonic() - started - relaunching < args.seconds:
            time.sleep(args.every)
            name = rng.choice(sorted(processes.pids()) + [SUPERVISOR])
            try:
                old_pid = processes.kill(name)
            except (KeyError, ProcessLookupError, TypeError):
                continue
            killed_at = time.monotonic()
            faults[name] += 1
            print(f"chaos: killed {name} at {killed_at - started:.0f} s", flush=True)
            recovery.measure(name, old_pid, killed_at)
            if name == SUPERVISOR:
                stack.process.wait(30)
                stack.launch()
                relaunching += time.monotonic() - killed_at
        demo_thread.join(1800)
        recovery.wait()
        answered = {p.id for p in demo["result"].registered} if "result" in demo else set()
        settle_started = time.monotonic()
        violations = invariants.settle(answered=answered | recovery.canaries, timeout=900)
        settle_seconds = time.monotonic() - settle_started
        restarts = stack.restarts()
        stack.stop()
        invariants.close()

    print()
    print(f"Command: {command_line()}")
    print(f"demo population:        {args.participants} applicants (seed {args.seed})"
          + (f", {len(demo['result'].registered)} registered" if "result" in demo else "")
          + (f"; the demo stopped early: {demo['error'][:200]}" if "error" in demo else ""))
    print(f"faults injected:        {sum(faults.values())} in {args.seconds:.0f} s "
          f"({', '.join(f'{name} {n}' for name, n in sorted(faults.items()))})")
    print(f"restarts:               {restarts} processes started again by letsconnect up"
          f", {stack.launches - 1} new letsconnect up after it was killed")
    if recovery.back:
        print(f"time to recover:        p50 {percentile(recovery.back, 0.5):.1f} s, "
              f"p95 {percentile(recovery.back, 0.95):.1f} s over {len(recovery.back)} faults "
              f"(kill -> the process runs again and every API answers /readyz)")
    if recovery.times:
        print(f"  end to end:           p50 {percentile(recovery.times, 0.5):.1f} s, "
              f"p95 {percentile(recovery.times, 0.95):.1f} s over {len(recovery.times)} faults "
              f"(kill -> a registration made right after it is known to matcher, scheduler and notifier)"
              + (f"; {recovery.unrecovered} never recovered" if recovery.unrecovered else ""))
    print(f"settled after:          {settle_seconds:.0f} s")
    print(f"invariant violations:   {len(violations)} (target 0)")
    for violation in violations:
        print(f"  - {violation}")


if __name__ == "__main__":
    main()
