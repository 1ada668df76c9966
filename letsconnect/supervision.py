"""When `letsconnect up` restarts a process that died, and when it gives up (pure rules, no I/O)."""
from __future__ import annotations

import signal
from dataclasses import dataclass


@dataclass(frozen=True)
class RestartPolicy:
    """Restart after growing pauses (1 s, 2 s, 4 s ... up to `max_delay`); give up when a process
    crashed `max_crashes` times within `window_seconds`. Crashes older than the window are
    forgotten, so a process that ran well for a while starts again from the shortest pause."""

    max_crashes: int = 5
    window_seconds: float = 60.0
    first_delay: float = 1.0
    max_delay: float = 30.0

    def recent(self, crashes: list[float], now: float) -> list[float]:
        return [moment for moment in crashes if now - moment <= self.window_seconds]

    def delay(self, crashes: list[float], now: float) -> float | None:
        """Seconds to wait before the next start, given every crash so far (the latest included);
        None: give up."""
        recent = self.recent(crashes, now)
        if len(recent) >= self.max_crashes:
            return None
        return min(self.max_delay, self.first_delay * 2 ** max(0, len(recent) - 1))


def describe_exit(returncode: int) -> str:
    """`-9` -> "killed by SIGKILL", `1` -> "exit status 1"."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"
