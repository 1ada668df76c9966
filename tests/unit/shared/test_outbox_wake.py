"""A polling relay backs off while it finds nothing, reads again soon after it found rows, and a
commit in its own process (the bell) or in another one of the host (its doorbell) wakes it at once."""
from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

from shared.outbox_wake import Doorbell, OutboxWakeup, doorbell_path, ring


def polling(namespace: str, poll: float, idle: float) -> OutboxWakeup:
    outbox = SimpleNamespace(full_name=namespace)  # polling never touches the collection itself
    return OutboxWakeup(outbox, poll_seconds=poll, idle_poll_seconds=idle, change_stream=False)


def timed_wait(wakeup: OutboxWakeup, stop: threading.Event | None = None) -> float:
    started = time.monotonic()
    wakeup.wait(stop or threading.Event())
    return time.monotonic() - started


def test_an_idle_relay_waits_twice_as_long_each_time_up_to_the_idle_interval():
    wakeup = polling("db.idle", poll=0.05, idle=0.2)
    waits = [timed_wait(wakeup) for _ in range(4)]
    assert all(wait >= least - 0.005 for wait, least in zip(waits, (0.05, 0.1, 0.2, 0.2))), waits
    assert sum(waits) < 0.55 + 2.0  # capped: a fifth wait of 0.4 s would not be taken


def test_rows_found_bring_the_next_read_back_to_the_short_interval():
    wakeup = polling("db.busy", poll=0.05, idle=30)
    for _ in range(6):
        wakeup._next_poll = min(wakeup.idle_poll, wakeup._next_poll * 2)  # long idle: next read in 30 s
    wakeup.published(["row"])
    assert timed_wait(wakeup) < 5


def test_a_commit_in_this_process_rings_a_relay_out_of_a_long_wait():
    wakeup = polling("db.rung", poll=30, idle=30)
    threading.Timer(0.2, ring, args=("db.rung",)).start()
    assert timed_wait(wakeup) < 5


def test_another_outboxs_commit_does_not_wake_the_relay():
    wakeup = polling("db.quiet", poll=0.3, idle=0.3)
    ring("db.elsewhere")
    assert timed_wait(wakeup) >= 0.295


def test_a_ring_right_after_a_batch_waits_for_the_short_interval_to_take_more_rows_together():
    wakeup = polling("db.linger", poll=0.3, idle=30)
    started = time.monotonic()
    wakeup.published(["row"])
    ring("db.linger")
    wakeup.wait(threading.Event())
    assert time.monotonic() - started >= 0.295


def test_stopping_ends_a_long_wait():
    wakeup = polling("db.stopping", poll=30, idle=30)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    assert timed_wait(wakeup, stop) < 5


def test_a_ring_for_a_relay_of_another_process_reaches_its_doorbell_and_only_one_listens():
    namespace = f"doorbell_{time.monotonic_ns()}.outbox"
    rung = threading.Event()  # the bell of a relay in "another process": not registered in this one
    first, second = Doorbell(namespace, rung), Doorbell(namespace, threading.Event())
    assert first.open() and not second.open()  # one relay of a namespace per host answers its doorbell
    try:
        ring(namespace)
        assert rung.wait(5)
    finally:
        first.close()
    assert not doorbell_path(namespace).exists()
    ring(namespace)  # nobody listens: a ring is dropped, never an error
    assert second.open()  # the doorbell is free again
    second.close()


def test_a_doorbell_left_by_a_relay_that_died_is_taken_over():
    namespace = f"doorbell_{time.monotonic_ns()}.outbox"
    path = doorbell_path(namespace)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(path))
    dead.close()  # its socket file stays behind
    rung = threading.Event()
    doorbell = Doorbell(namespace, rung)
    try:
        assert doorbell.open()
        ring(namespace)
        assert rung.wait(5)
    finally:
        doorbell.close()
