"""What one learner's registration costs the embedded stack, end to end: database requests by kind
(SecantusDB's serverStatus opcounters) and CPU time of every process, per learner, over a window
that includes the idle time between registrations (idle polling is a cost too).

Counts and CPU seconds move far less than latencies when other work shares the machine, so this
is the figure to compare before/after on a busy machine.

    .venv/bin/python bench/e2e_cost.py [--learners 60] [--rate 5]
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import requests
from _stack import command_line
from e2e import TOPICS, person
from pymongo import MongoClient

from letsconnect.servers import EmbeddedServers, free_port
from letsconnect.stack import Stack
from shared.config import SERVICES, Settings


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its children it has waited for (gunicorn's workers)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def process_tree_cpu(pid: int) -> float:
    """CPU of a process and its live children (a gunicorn master and its workers)."""
    total = cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(process_tree_cpu(int(child)) for child in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=60)
    parser.add_argument("--rate", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lc-cost-") as tmp:
        servers = EmbeddedServers(Path(tmp), free_port(), free_port(), free_port())
        settings = Settings(ports={s: free_port() for s in SERVICES}, staff_tokens=("bench-staff",))
        stack = Stack(settings, servers, api_workers=1)
        try:
            stack.start()  # inside: a stack that fails to start still stops what it started
            url = f"http://127.0.0.1:{settings.ports['registry']}/participants"
            session = requests.Session()
            for i, topic in enumerate((TOPICS * 30)[:30]):
                session.post(url, json=person(i, topic, "share", "Europe/London"), timeout=30).raise_for_status()
            time.sleep(10)  # the sharers' events settle before the window opens
            mongo = MongoClient(stack.settings.mongo_uri)
            processes = {**{name: p.pid for name, p in servers.processes.items()},
                         **{name: child.process.pid for name, child in stack.children.items() if child.process}}
            ops_before = dict(mongo.admin.command("serverStatus")["opcounters"])
            cpu_before = {name: process_tree_cpu(pid) for name, pid in processes.items()}
            started = time.time()
            for i in range(args.learners):
                body = person(i, TOPICS[i % len(TOPICS)], "learn", "Africa/Lagos")
                session.post(url, json=body, timeout=30).raise_for_status()
                time.sleep(max(0.0, started + (i + 1) / args.rate - time.time()))
            time.sleep(10)  # the last learners' proposals and emails
            ops_after = dict(mongo.admin.command("serverStatus")["opcounters"])
            cpu_after = {name: process_tree_cpu(pid) for name, pid in processes.items()}
            window = time.time() - started
        finally:
            stack.stop()
    ops = {kind: (ops_after[kind] - ops_before.get(kind, 0)) / args.learners for kind in ops_after}
    cpu = {name: 1000 * (cpu_after[name] - cpu_before[name]) / args.learners for name in processes}
    print(f"command: {command_line()}")
    print(f"{args.learners} learners at {args.rate:g}/s, window {window:.0f} s")
    print(f"database requests per learner: {sum(ops.values()):.1f} (" +
          ", ".join(f"{kind} {count:.1f}" for kind, count in ops.items()) + ")")
    print(f"CPU per learner: {sum(cpu.values()):.0f} ms (" +
          ", ".join(f"{name} {ms:.0f}" for name, ms in sorted(cpu.items(), key=lambda kv: -kv[1]) if ms >= 0.5) + ")")


if __name__ == "__main__":
    main()
