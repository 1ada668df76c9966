"""Chaos on the embedded stack, as an operator would meet it: under a steady flow of
registrations, seat requests and connect-making rounds (and the emails they bring), processes of
`letsconnect up` are killed with SIGKILL one fault after another, and after each fault every
invariant must hold again: every registration known to every service that consumes it, one welcome
per person, one proposal email per proposal and recipient, every sent message in the mail sink as
one message (a notifier killed mid-send resends it with the same Message-ID), no sharer over
capacity, no clinic overbooked, the report's figures equal to the stored data.

One stack for the module; the faults run in this file's order."""
from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass

import pytest
import requests

from letsconnect.chaos import Invariants, StackProcesses, Traffic, applicants, schedule_clinic
from letsconnect.client import Platform
from shared.config import SERVICES, Settings
from shared.taxonomy import base_taxonomy
from tests.e2e.conftest import STAFF, RunningStack, launch, stack_env, wait_all_down

# Generous bounds: the machine may be loaded; nothing here measures speed (bench/chaos.py does).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]
FLOW_SECONDS = 4  # traffic that keeps flowing while a process is away or coming back


@dataclass
class Chaos:
    running: RunningStack
    platform: Platform
    processes: StackProcesses
    traffic: Traffic
    invariants: Invariants

    def flow(self, seconds: float = 0) -> int:
        """Let traffic flow (for `seconds`); returns how many were registered so far."""
        self.traffic.resume()
        time.sleep(seconds)
        return len(self.traffic.registered)

    def settled(self) -> list[str]:
        """Hold the traffic, wait for the stack to settle; what still does not hold (a request the
        traffic could not get answered, after retrying for minutes, counts too)."""
        self.traffic.hold()
        unanswered = [f"traffic: {error}" for error in self.traffic.errors]
        return unanswered + self.invariants.settle(answered=set(self.traffic.registered), timeout=400)

    def said(self, text: str) -> bool:
        return text in self.running.output.read_text(errors="replace")


@pytest.fixture(scope="module")
def chaos(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("chaos-stack")
    env = stack_env(data_dir, LC_DRAIN_SECONDS="5")
    running = launch(data_dir, env)
    platform = Platform.from_settings(Settings(ports=dict(running.ports), staff_tokens=(STAFF,)))
    platform.retry_seconds = 180  # the client waits for a process that is away, as a person retries
    topic = base_taxonomy()["pilot_top_learn"][0]
    clinic = schedule_clinic(platform, topic, seats=4)
    traffic = Traffic(platform, clinic, pause_seconds=0.6).start()
    invariants = Invariants(f"mongodb://127.0.0.1:{env['LC_MONGO_PORT']}/?directConnection=true",
                            data_dir / "mail", platform)
    state = Chaos(running, platform, StackProcesses(data_dir), traffic, invariants)
    try:
        yield state
    finally:
        traffic.stop()
        invariants.close()
        if state.running.process.poll() is None:
            state.running.process.send_signal(signal.SIGTERM)
            state.running.process.wait(120)


def test_each_worker_killed_in_turn_is_restarted_and_nothing_is_lost(chaos):
    before = chaos.flow(FLOW_SECONDS)
    for service in SERVICES:
        old = chaos.processes.kill(f"{service}-worker")
        chaos.processes.wait_replaced(f"{service}-worker", old)
        chaos.flow(FLOW_SECONDS)
    assert chaos.settled() == []
    assert len(chaos.traffic.registered) > before, "no traffic flowed during the faults"
    for service in SERVICES:
        assert chaos.said(f"{service}-worker exited (killed by SIGKILL); restarting in")
        assert chaos.said(f"{service}-worker restarted (pid")


def test_a_broker_killed_comes_back_empty_and_every_event_is_delivered_again(chaos):
    """Two consumers are paused first, so the broker dies holding events they have not read: only
    the outboxes' retained logs can bring those back."""
    chaos.flow(FLOW_SECONDS)
    paused = [chaos.processes.pids()[name] for name in ("matcher-worker", "scheduler-worker")]
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    registered = chaos.flow(FLOW_SECONDS)
    workers = {f"{service}-worker": chaos.processes.pids()[f"{service}-worker"] for service in SERVICES}
    old = chaos.processes.kill("tansu")
    chaos.processes.wait_replaced("tansu", old)
    for name, pid in workers.items():
        chaos.processes.wait_replaced(name, pid)  # stopped while the broker was away, started after
    after = chaos.flow(FLOW_SECONDS)
    assert chaos.settled() == []
    assert after > registered
    assert chaos.said("tansu exited (killed by SIGKILL); restarting in")
    assert chaos.said("stopping the workers until the broker is back")
    relay_logs = (chaos.running.data_dir / "logs" / "registry-worker.log").read_text(errors="replace")
    assert "publishing the retained log again" in relay_logs


def test_a_database_killed_answers_503_meanwhile_and_leaves_nothing_half_written(chaos):
    chaos.flow(FLOW_SECONDS)
    old = chaos.processes.kill("secantusdb")
    answers = registrations_until_the_database_is_back(chaos, old)
    assert chaos.settled() == []
    assert {status for status, _, _ in answers} <= {201, 503}, answers
    refused = [username for status, username, _ in answers if status == 503]
    assert refused, "no request met the database away"
    assert all(retry_after for status, _, retry_after in answers if status == 503)
    stored = chaos.invariants.db("registry").participants.count_documents({"username": {"$in": refused}})
    assert stored == 0, "a registration answered 503 was stored"
    assert chaos.said("secantusdb exited (killed by SIGKILL); restarting in")


def registrations_until_the_database_is_back(chaos, old_pid: int, probes: int = 3) -> list[tuple]:
    """Registrations sent without retries by a few clients at once, until one is stored by the
    restarted database: (status or exception name, username, Retry-After) each."""
    bodies = applicants(seed=23)
    answers: list[tuple] = []
    lock = threading.Lock()
    back = threading.Event()
    deadline = time.monotonic() + 180

    def probe() -> None:
        client = Platform(dict(chaos.platform.urls), chaos.platform.staff_token, timeout=90)
        while not back.is_set() and time.monotonic() < deadline:
            with lock:
                body = next(bodies)
            try:
                response = client.call("POST", "registry", "/participants", json=body, expect=(201, 503))
                answer = (response.status_code, body["username"], response.headers.get("Retry-After"))
                if response.status_code == 201 and chaos.processes.pids().get("secantusdb") != old_pid:
                    back.set()
            except requests.RequestException as exc:
                answer = (type(exc).__name__, body["username"], None)
            with lock:
                answers.append(answer)
            time.sleep(0.2)

    threads = [threading.Thread(target=probe) for _ in range(probes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert back.is_set(), f"the database did not come back: {answers[-5:]}"
    return answers


def test_letsconnect_up_killed_then_started_again_cleans_up_and_loses_nothing(chaos):
    chaos.flow(FLOW_SECONDS)
    left = chaos.processes.pids()
    chaos.processes.kill("letsconnect-up")
    chaos.running.process.wait(10)
    chaos.flow(FLOW_SECONDS)  # the orphans keep serving meanwhile
    chaos.running = launch(chaos.running.data_dir, chaos.running.env)
    assert chaos.said(f"did not stop; stopping the {len(left)} processes it left running")
    assert not any(chaos.processes.pids().get(name) == pid for name, pid in left.items())
    assert not any(_alive(pid) for pid in left.values())
    chaos.flow(FLOW_SECONDS)
    assert chaos.settled() == []


def test_zz_a_stop_drains_and_frees_every_port(chaos):
    chaos.traffic.hold()
    chaos.running.process.send_signal(signal.SIGTERM)
    assert chaos.running.process.wait(120) == 0
    assert chaos.said("stopping the APIs")
    assert chaos.said("letting the workers finish what they have in flight")
    assert wait_all_down(list(chaos.running.ports.values()))
    assert not (chaos.running.data_dir / "stack.json").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
