"""What a run of `letsconnect up` leaves on disk so that the next run can clean up after it.

Each process the stack starts runs in a session of its own (Ctrl-C reaches only `letsconnect up`,
which stops them in order), so they outlive a `letsconnect up` that was killed. The run records
its own pid and every child's pid with its start time in `<data dir>/stack.json`; the next run
stops the ones still alive (a pid alone could have been reused by an unrelated process).
"""
from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Recorded:
    name: str
    pid: int
    started: float


def started_at(pid: int) -> float | None:
    try:
        return round(psutil.Process(pid).create_time(), 2)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def still_running(entry: Recorded) -> bool:
    """The recorded process itself, not a later one that got its pid."""
    return started_at(entry.pid) == entry.started


class RunRecord:
    def __init__(self, data_dir: Path):
        self.path = data_dir / "stack.json"

    def read(self) -> tuple[Recorded | None, list[Recorded]]:
        try:
            raw = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None, []
        supervisor = raw.get("supervisor")
        owner = Recorded("letsconnect up", supervisor["pid"], supervisor["started"]) if supervisor else None
        children = [Recorded(name, item["pid"], item["started"]) for name, item in raw.get("children", {}).items()]
        return owner, children

    def write(self, children: dict[str, int]) -> None:
        record = {"supervisor": {"pid": os.getpid(), "started": started_at(os.getpid())},
                  "children": {name: {"pid": pid, "started": started_at(pid)} for name, pid in children.items()}}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(record, indent=1))
        temporary.replace(self.path)  # never a half-written record, even if killed right now

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)


def stop_groups(pids: list[int], grace: float) -> None:
    """SIGTERM to each process group, SIGKILL to what is left after `grace` seconds."""
    for pid in pids:
        signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(group_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        signal_group(pid, signal.SIGKILL)


def signal_group(pid: int, sig: int) -> None:
    """The process and what it started (a gunicorn master's workers): they share its group."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
