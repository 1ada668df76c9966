"""Faults, traffic and invariants for the chaos tests (tests/chaos/) and bench/chaos.py.

The faults are SIGKILLs of the processes `letsconnect up` runs (their pids are in
`<data dir>/stack.json`) or of `letsconnect up` itself. The traffic goes through the public APIs
only. The invariants are checked against what every service stored: this module reads each
service's database directly, which no service may do; it is a test instrument.
"""
from __future__ import annotations

import json
import mailbox
import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Iterator

from pymongo import MongoClient

from letsconnect.client import ApiError, Platform
from letsconnect.population import population
from letsconnect.report import build
from shared.config import SERVICES

CONSUMERS_OF_REGISTRATIONS = {"matcher": "people", "scheduler": "people", "notifier": "contacts"}
OPEN_MATCH = ("proposed", "confirmed")
MOVING_DELIVERIES = ("queued", "sending", "parked")


class StackProcesses:
    """The processes of a running `letsconnect up`, by name, from its run record."""

    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "stack.json"

    def _record(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    def pids(self) -> dict[str, int]:
        return {name: item["pid"] for name, item in self._record().get("children", {}).items()}

    def supervisor(self) -> int | None:
        return (self._record().get("supervisor") or {}).get("pid")

    def kill(self, name: str) -> int:
        pid = self.supervisor() if name == "letsconnect-up" else self.pids()[name]
        os.kill(pid, signal.SIGKILL)
        return pid

    def wait_replaced(self, name: str, old_pid: int, timeout: float = 120) -> int:
        """The pid of the process started in place of `old_pid`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = self.pids().get(name)
            if pid and pid != old_pid and _alive(pid):
                return pid
            time.sleep(0.2)
        raise TimeoutError(f"{name} was not started again within {timeout:.0f} s")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def applicants(seed: int, size: int = 4000) -> Iterator[dict]:
    """Eligible applicants of the demo population, one after another."""
    yield from (applicant.body for applicant in population(size, seed=seed, ineligible_share=0.0))


@dataclass
class Clinic:
    id: str
    slots: list[str]
    topic: str


def schedule_clinic(platform: Platform, topic: str, seats: int = 4) -> Clinic:
    start = (datetime.now(timezone.utc) + timedelta(days=14)).replace(hour=9, minute=0, second=0, microsecond=0)
    clinic = platform.json("POST", "scheduler", "/clinics", staff=True, json={
        "kind": "monthly", "title": "Chaos clinic", "description": "Seats under faults.", "topics": [topic],
        "sharers": [], "language": "en", "interpretation": [], "seats": seats,
        "slots": [{"start": (start + timedelta(hours=h)).isoformat().replace("+00:00", "Z"), "minutes": 60}
                  for h in (0, 9)], "meeting_url": "https://meet.example.org/chaos"})
    return Clinic(clinic["id"], [slot["id"] for slot in clinic["slots"]], topic)


@dataclass
class Traffic:
    """A steady flow through the public APIs: registrations, a seat request for a clinic by each
    newcomer who wants to learn its topic, a connect-making round every few registrations (the
    matcher's proposals and the clinic's confirmations are the messages). Run it in a thread."""

    platform: Platform
    clinic: Clinic | None
    seed: int = 19
    pause_seconds: float = 0.25
    round_every: int = 12
    registered: dict[str, dict] = field(default_factory=dict)
    repeated: int = 0  # a registration whose first answer was lost (409 on the retry)
    seat_requests: int = 0
    rounds: int = 0
    errors: list[str] = field(default_factory=list)

    def __post_init__(self):
        self._bodies = applicants(self.seed)
        self._flowing = threading.Event()
        self._stopped = threading.Event()
        self._idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-traffic", daemon=True)

    def start(self) -> "Traffic":
        self._flowing.set()
        self._thread.start()
        return self

    def resume(self) -> None:
        self._idle.clear()
        self._flowing.set()

    def hold(self, timeout: float = 180) -> None:
        """Stop sending and wait until the request in flight is answered."""
        self._flowing.clear()
        self._idle.wait(timeout)

    def stop(self) -> None:
        self._stopped.set()
        self._flowing.set()
        self._thread.join(180)

    def _run(self) -> None:
        count = 0
        while not self._stopped.is_set():
            if not self._flowing.is_set():
                self._idle.set()
                self._flowing.wait(0.5)
                continue
            count += 1
            try:
                self.step(count)
            except (ApiError, OSError, Exception) as exc:  # recorded; the flow goes on
                self.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            time.sleep(self.pause_seconds)
        self._idle.set()

    def step(self, count: int) -> None:
        body = next(self._bodies)
        response = self.platform.call("POST", "registry", "/participants", json=body, expect=(201, 409))
        if response.status_code == 409:
            self.repeated += 1
            return
        created = response.json()
        self.registered[created["id"]] = body
        learns = {i["topic"] for i in body["interests"] if i["direction"] == "learn"}
        if self.clinic is not None and (self.clinic.topic in learns or count % 3 == 0):
            slot = self.clinic.slots[count % len(self.clinic.slots)]
            self.platform.call("POST", "scheduler", f"/clinics/{self.clinic.id}/registrations", token=created["token"],
                               json={"participant": created["id"], "slot": slot}, expect=(200, 201, 409, 422))
            self.seat_requests += 1
        if count % self.round_every == 0:
            self.platform.call("POST", "matcher", "/rounds", staff=True, json={}, expect=(200, 201, 202, 409))
            self.rounds += 1


class Invariants:
    """What must hold across services once the stack has settled (read from every database)."""

    def __init__(self, mongo_uri: str, maildir: Path, platform: Platform, db_prefix: str = "letsconnect_",
                 sharer_capacity: int = 3):
        self.mongo = MongoClient(mongo_uri, serverSelectionTimeoutMS=10000, tz_aware=True)
        self.maildir = Path(maildir)
        self.platform = platform
        self.prefix = db_prefix
        self.capacity = sharer_capacity

    def db(self, service: str):
        return self.mongo[f"{self.prefix}{service}"]

    def close(self) -> None:
        self.mongo.close()

    def _mail(self) -> dict[str, Counter]:
        """Copies in the sink by notification id (the notifier's X-LetsConnect-Notification), each
        notification's copies counted by Message-ID."""
        box = mailbox.Maildir(str(self.maildir), create=False) if (self.maildir / "new").exists() else None
        found: dict[str, Counter] = {}
        for key in (box.keys() if box is not None else []):
            try:
                message = message_from_bytes(box.get_bytes(key), policy=default_policy)
            except KeyError:  # moved while reading
                continue
            notification = message.get("X-LetsConnect-Notification") or message.get("Message-ID")
            found.setdefault(notification, Counter())[message.get("Message-ID")] += 1
        return found

    def violations(self, answered: set[str] | None = None) -> list[str]:
        """Every invariant that does not hold now; empty when all hold. `answered`: the ids the
        registry answered 201 for (each must be stored)."""
        found: list[str] = []
        registry = self.db("registry")
        people = {doc["_id"] for doc in registry.participants.find({}, {"_id": 1})}
        withdrawn = {doc["_id"] for doc in registry.withdrawn.find({}, {"_id": 1})}
        if answered:
            lost = answered - people - withdrawn
            if lost:
                found.append(f"{len(lost)} registrations answered 201 are not stored: {sorted(lost)[:3]}")
        for service in SERVICES:
            pending = self.db(service).outbox.count_documents({})
            if pending:
                found.append(f"{service}: {pending} outbox rows not yet published")
        for service, collection in CONSUMERS_OF_REGISTRATIONS.items():
            known = {doc["_id"] for doc in self.db(service)[collection].find({"withdrawn": {"$ne": True}}, {"_id": 1})}
            missing = people - known
            if missing:
                found.append(f"{service} does not know {len(missing)} registered participants: {sorted(missing)[:3]}")
        deliveries = list(self.db("notifier").deliveries.find(
            {}, {"participant_id": 1, "template": 1, "status": 1, "event_type": 1, "event_id": 1}))
        moving = Counter(d["status"] for d in deliveries if d["status"] in MOVING_DELIVERIES)
        if moving:
            found.append(f"notifier: messages not sent yet: {dict(moving)}")
        failed = [d["_id"] for d in deliveries if d["status"] == "failed"]
        if failed:
            found.append(f"notifier: {len(failed)} messages failed")
        welcomes = Counter(d["participant_id"] for d in deliveries if d["template"] == "welcome" and d["status"] == "sent")
        wrong = {pid: welcomes.get(pid, 0) for pid in people if welcomes.get(pid, 0) != 1}
        if wrong:
            found.append(f"{len(wrong)} participants without exactly one welcome: {dict(list(wrong.items())[:3])}")
        found += self._proposals(people, deliveries)
        mail = self._mail()
        sent = [d["_id"] for d in deliveries if d["status"] == "sent"]
        unmailed = [i for i in sent if i not in mail]
        # A notifier killed after the relay accepted a message and before it stored the outcome
        # sends it again once the claim lapses, as the same message (one Message-ID), which mail
        # clients show once: at-least-once at the SMTP boundary (docs/services/notifier.md).
        # Two different messages for one notification would be a second email.
        different = [i for i, copies in mail.items() if len(copies) > 1]
        if unmailed:
            found.append(f"{len(unmailed)} messages marked sent are not in the mail sink")
        if different:
            found.append(f"{len(different)} notifications reached the mail sink as different messages")
        found += self._capacity()
        found += self._seats()
        found += self._report(len(people), deliveries)
        return found

    def _proposals(self, people: set[str], deliveries: list[dict]) -> list[str]:
        """One proposal email per proposal and recipient."""
        expected: Counter = Counter()
        for match in self.db("matcher").matches.find({}, {"participants": 1}):
            for member in match["participants"]:
                if member["id"] in people:
                    expected[member["id"]] += 1
        got: Counter = Counter()
        per_event: Counter = Counter()
        for d in deliveries:
            if d["template"] == "match_proposal" and d["status"] == "sent":
                got[d["participant_id"]] += 1
                per_event[(d["event_id"], d["participant_id"])] += 1
        wrong = {pid: (got.get(pid, 0), n) for pid, n in expected.items() if got.get(pid, 0) != n}
        found = []
        if wrong:
            found.append(f"{len(wrong)} participants whose proposal emails (sent, expected) differ: "
                         f"{dict(list(wrong.items())[:3])}")
        if any(n > 1 for n in per_event.values()):
            found.append("a proposal was emailed twice to the same person")
        return found

    def _capacity(self) -> list[str]:
        load: Counter = Counter()
        for match in self.db("matcher").matches.find({"status": {"$in": list(OPEN_MATCH)}}, {"participants": 1}):
            load.update(m["id"] for m in match["participants"] if m["role"] == "sharer")
        over = {pid: n for pid, n in load.items() if n > self.capacity}
        return [f"{len(over)} sharers over capacity: {over}"] if over else []

    def _seats(self) -> list[str]:
        scheduler = self.db("scheduler")
        confirmed = Counter(r["slot_id"] for r in scheduler.registrations.find({"status": "confirmed"}, {"slot_id": 1}))
        found = []
        for slot in scheduler.slots.find():
            taken = confirmed.get(slot["_id"], 0)
            if taken > slot["seats"]:
                found.append(f"slot {slot['_id']} overbooked: {taken} confirmed for {slot['seats']} seats")
            if "confirmed" in slot and slot["confirmed"] != taken:
                found.append(f"slot {slot['_id']} counts {slot['confirmed']} seats taken, {taken} are confirmed")
        return found

    def _report(self, registered: int, deliveries: list[dict]) -> list[str]:
        report = build({service: self.platform.stats(service) for service in SERVICES})
        stored = {
            "registrations": registered,
            "connections": self.db("matcher").matches.count_documents({"status": {"$in": ["confirmed", "completed"]}}),
            "messages_sent": sum(1 for d in deliveries if d["status"] == "sent"),
            "resources": self.db("resources").resources.count_documents({}),
        }
        return [f"report says {report[k]} {k}, the databases hold {v}" for k, v in stored.items() if report[k] != v]

    def settle(self, answered: set[str] | None = None, timeout: float = 180, interval: float = 2.0) -> list[str]:
        """Wait until every invariant holds (events still flowing, messages still queued); return
        what still does not hold after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                found = self.violations(answered)
            except Exception as exc:  # a database or API still coming back
                found = [f"could not check: {type(exc).__name__}: {exc}"]
            if not found or time.monotonic() > deadline:
                return found
            time.sleep(interval)
