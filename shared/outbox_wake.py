"""Wakes the outbox relay when a row is written, instead of polling the outbox every few ms.

The relay watches its outbox with a MongoDB change stream (inserts only, the row's id only): the
server pushes each new row within milliseconds of its commit, from any process (an API's
gunicorn workers as much as the worker itself), and an idle relay costs the database nothing.
MongoDB needs a replica set for change streams (production runs one); where the server refuses,
the relay falls back to polling every LC_OUTBOX_POLL_MS. With `change_stream=False` (LC_OUTBOX_WAKE=
poll, the embedded stack's choice: SecantusDB wakes every stream on every write in any database) it
polls from the start.

Rows the relay published itself still arrive on the stream; their ids are remembered for a while
so they do not cause an empty read. A sweep every `sweep_seconds` runs the relay anyway (to take
over the lease from a copy that died, or after the stream was reopened).

Polling (`change_stream=False`, or a server without change streams) reads again `poll_seconds`
after a batch and, while reads come back empty, waits twice as long each time up to
`idle_poll_seconds`: the five relays polling every 50 ms made about a third of the embedded
database's requests at 5 registrations a second (bench/e2e.py), most of them finding nothing. A write made in the relay's own process (the worker's consumers and jobs)
rings its bell when its transaction commits (`ring`, through shared.mongo.after_commit), which
wakes a waiting relay at once. A write from another process of the same host (an API's gunicorn
workers) rings the relay's doorbell instead: a UNIX datagram socket the polling relay listens on
(`Doorbell`, one per outbox under $TMPDIR/letsconnect-doorbells-<uid>/). Writes from other hosts
wait for the next read.

Under a steady stream of writes a relay woken by each one would read one or two rows at a time,
and every read and delete is a database request the writers wait behind. So while rows keep
coming (the relay published some within the last `busy_seconds`) it lingers `linger_seconds`
after a wake-up to take the writes of that moment in one read, as a producer's linger.ms does;
an idle relay is woken without delay.
"""
from __future__ import annotations

import hashlib
import logging
import os
import socket
import tempfile
import threading
import time
from collections import deque
from pathlib import Path

from pymongo.collection import Collection
from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger(__name__)

INSERTS_ONLY = [{"$match": {"operationType": "insert"}}, {"$project": {"documentKey": 1}}]
STOP_CHECK_SECONDS = 0.1
DOORBELLS = Path(tempfile.gettempdir()) / f"letsconnect-doorbells-{os.getuid()}"

_bells: dict[str, threading.Event] = {}
_bells_lock = threading.Lock()
_sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
_sender.setblocking(False)


def bell(namespace: str) -> threading.Event:
    """The bell of this process's relay of the outbox `namespace` (database.collection)."""
    with _bells_lock:
        return _bells.setdefault(namespace, threading.Event())


def doorbell_path(namespace: str) -> Path:
    """Where a polling relay of `namespace` on this host listens for other processes' rings."""
    return DOORBELLS / (hashlib.sha256(namespace.encode()).hexdigest()[:24] + ".sock")


def ring(namespace: str) -> None:
    """A row was committed to the outbox `namespace`: wake its relay, in this process or, through
    its doorbell, in another one on this host (an API's commit wakes its service's worker)."""
    waiting = _bells.get(namespace)
    if waiting is not None:
        waiting.set()
        return
    try:
        _sender.sendto(b"!", str(doorbell_path(namespace)))
    except OSError:  # no relay listening on this host (or its queue is full: it is awake anyway)
        pass


class Doorbell:
    """A datagram socket of this host that rings a relay's bell: the cross-process half of ring().
    Only one relay of a namespace on a host answers it; the others poll as before."""

    def __init__(self, namespace: str, bell_: threading.Event):
        self.path = doorbell_path(namespace)
        self.bell = bell_
        self._socket: socket.socket | None = None

    def open(self) -> bool:
        if self._socket is not None:
            return True
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            self.path.parent.mkdir(mode=0o700, exist_ok=True)
            if self.path.exists() and not self._answered():
                self.path.unlink(missing_ok=True)  # left by a relay that died
            listener.bind(str(self.path))
        except OSError as exc:  # another relay of this namespace listens here, or no such folder
            listener.close()
            log.info("outbox relay: no doorbell at %s (%s); polling only", self.path, exc)
            return False
        listener.settimeout(STOP_CHECK_SECONDS * 5)
        self._socket = listener
        threading.Thread(target=self._listen, args=(listener,), name="outbox-doorbell", daemon=True).start()
        return True

    def _answered(self) -> bool:
        try:
            _sender.sendto(b"?", str(self.path))
            return True
        except OSError:
            return False

    def _listen(self, listener: socket.socket) -> None:
        try:
            while self._socket is listener:
                try:
                    listener.recv(64)
                except socket.timeout:
                    continue
                self.bell.set()
        except OSError as exc:
            log.warning("outbox relay: doorbell %s failed (%s); polling only", self.path, exc)
        finally:
            listener.close()  # here, not in close(): a socket closed under a blocked recv stays blocked

    def close(self) -> None:
        if self._socket is not None:
            self._socket = None
            self.path.unlink(missing_ok=True)


class OutboxWakeup:
    def __init__(self, collection: Collection, poll_seconds: float, sweep_seconds: float = 1.0,
                 linger_seconds: float = 0.01, busy_seconds: float = 0.05, remember: int = 20000,
                 change_stream: bool = True, idle_poll_seconds: float | None = None):
        self.collection = collection
        self.poll = poll_seconds
        self.idle_poll = max(poll_seconds, idle_poll_seconds if idle_poll_seconds is not None else poll_seconds)
        self._next_poll = poll_seconds
        self.bell = bell(collection.full_name)
        self.doorbell = Doorbell(collection.full_name, self.bell)
        self.sweep = sweep_seconds
        self.linger = linger_seconds
        self.busy = busy_seconds
        self._last_published = float("-inf")
        self._recent: set = set()
        self._order: deque = deque()
        self._remember = remember
        self._stream = None
        self._unsupported = not change_stream

    def start(self) -> None:
        """Open the stream before the relay's first read, so no row slips in between unnoticed
        (polling: the doorbell, which other processes of this host ring when they commit)."""
        self._open()
        if self._unsupported:
            self.doorbell.open()

    def _open(self) -> bool:
        if self._unsupported:
            return False
        try:
            self._stream = self.collection.watch(INSERTS_ONLY, max_await_time_ms=int(min(self.sweep, 1.0) * 1000))
            return True
        except OperationFailure as exc:  # the server refuses (a standalone mongod): poll instead
            log.warning("outbox relay: change streams unavailable (%s); polling every %.0f ms", exc, self.poll * 1000)
            self._unsupported = True
            self.doorbell.open()
        except PyMongoError as exc:  # unreachable: try again at the next wait
            log.warning("outbox relay: cannot watch the outbox (%s); retrying", exc)
        self._stream = None
        return False

    def published(self, ids) -> None:
        """Ids the relay has just published: their inserts on the stream are not new work."""
        self._last_published = time.monotonic()
        self._next_poll = self.poll
        for row_id in ids:
            if row_id not in self._recent:
                self._recent.add(row_id)
                self._order.append(row_id)
        while len(self._order) > self._remember:
            self._recent.discard(self._order.popleft())

    def wait(self, stop: threading.Event) -> None:
        """Return when a row the relay has not published was written, after `sweep_seconds`
        without one, or when stopping."""
        if self._stream is None:
            if not self._open():
                self._poll_wait(stop)
                return
            return  # (re)opened: whatever was written meanwhile is read now, then we watch
        deadline = time.monotonic() + self.sweep
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                change = self._stream.try_next()  # blocks up to max_await_time_ms on the server
            except PyMongoError as exc:
                log.warning("outbox relay: change stream interrupted (%s); reopening", exc)
                self.close()
                return
            if change is not None and change.get("documentKey", {}).get("_id") not in self._recent:
                if time.monotonic() - self._last_published < self.busy:
                    stop.wait(self.linger)  # writes keep coming: take this moment's together
                return

    def _poll_wait(self, stop: threading.Event) -> None:
        """Until the next read is due (backing off while reads find nothing), the bell rings, or
        stopping. Rung right after a batch, it still waits `poll_seconds` from that batch, so a
        busy relay reads a moment's writes together."""
        interval = self._next_poll
        self._next_poll = min(self.idle_poll, interval * 2)
        deadline = time.monotonic() + interval
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self.bell.wait(min(remaining, STOP_CHECK_SECONDS)):
                stop.wait(max(0.0, self._last_published + self.poll - time.monotonic()))
                self.bell.clear()  # after the linger: a ring from now on means a row not yet read
                return

    def close(self) -> None:
        self.doorbell.close()
        if self._stream is not None:
            try:
                self._stream.close()
            except PyMongoError:
                pass
            self._stream = None
