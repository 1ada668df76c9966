"""Benchmark of the notifier on the embedded stack.

Prints, from one run: the raw smtplib send rate to the SMTP sink (one kept-open connection,
messages of the same kind and size the notifier sends), and the rate at which one notifier
worker turns events into delivered messages (events published with shared.bus.Publisher,
contacts pre-loaded through participant-registered events, delivered = files in the sink's
Maildir), and their ratio. Target: the notifier reaches at least 50% of the raw send rate,
every event delivered exactly once.

    .venv/bin/python bench/notifier.py [--events 2000] [--contacts 200] [--raw 2000]
"""
from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import asdict
from email.utils import parseaddr
from pathlib import Path

from _stack import bench_settings, command_line, embedded_servers

from letsconnect.mailsink import read_maildir
from services.notifier.domain.compose import build_email, wire_bytes
from services.notifier.config import NotifierConfig
from services.notifier.domain.messages import Recipient, message_parts
from services.notifier.domain.rendering import TemplateCatalogue
from shared.bus import Publisher
from shared.config import Settings
from shared.events import make_event
from shared.mongo import database

LANGUAGES = (("ar", "en"), ("fr",), ("es", "en"), ("en",))


def participant(pid: str, n: int) -> dict:
    return {"participant_id": pid, "revision": 1, "username": f"User {n}", "name": f"Participant {n}",
            "email": f"{pid}@example.org", "languages": list(LANGUAGES[n % len(LANGUAGES)]),
            "timezone": "Africa/Cairo", "region": "mena", "group": {"name": "Wikimedia Egypt", "type": "user_group"},
            "role": "board", "purpose": "organising", "activities": ["training"],
            "interests": [{"topic": "budget-development", "direction": "learn"}],
            "consent": {"public_profile": True, "share_contact": True, "recording": False},
            "registered_at": "2026-11-24T10:00:00Z"}


def reminder(pid: str, n: int) -> dict:
    return {"clinic_id": f"clinic-{n % 17}", "slot_id": "slot-1", "participant_id": pid, "lead": "24h",
            "title": f"Budgets that tell a story #{n}", "start": "2026-12-10T14:00:00Z", "minutes": 90,
            "language": "en", "meeting_url": "https://meet.example.org/budgets"}


def delivered_count(maildir: Path) -> int:
    return sum(len(os.listdir(maildir / sub)) for sub in ("new", "cur") if (maildir / sub).is_dir())


def wait_for(maildir: Path, count: int, limit: float = 600) -> float:
    started = time.perf_counter()
    while delivered_count(maildir) < count:
        if time.perf_counter() - started > limit:
            raise SystemExit(f"only {delivered_count(maildir)} of {count} messages arrived within {limit:.0f}s")
        time.sleep(0.02)
    return time.perf_counter()


def sample_message(settings: Settings) -> bytes:
    """A clinic reminder exactly as the notifier renders it (text, HTML, .ics)."""
    pid = "p-sample"
    envelope = {"id": "sample", "type": "clinic-reminder", "time": "2026-11-24T10:00:00Z",
                "data": reminder(pid, 0)}
    recipient = Recipient(address=f"{pid}@example.org", name="Participant", languages=("ar",),
                          timezone="Africa/Cairo", participant_id=pid)
    parts = message_parts("clinic_reminder", envelope, recipient, settings, category="reminders")
    rendered = TemplateCatalogue().render("clinic_reminder", "ar", parts.context)
    return wire_bytes(build_email(rendered, mail_from=settings.mail_from, to_name=recipient.name,
                                  to_address=recipient.address, notification_id=uuid.uuid4().hex,
                                  unsubscribe_url=parts.unsubscribe_url, attachments=parts.attachments))


def raw_send_rate(settings: Settings, maildir: Path, count: int) -> tuple[float, int]:
    data = sample_message(settings)
    host, port = settings.smtp_url.removeprefix("smtp://").rsplit(":", 1)
    sender = parseaddr(settings.mail_from)[1]
    before = delivered_count(maildir)
    connection = smtplib.SMTP(host, int(port), timeout=10)
    started = time.perf_counter()
    for i in range(count):
        connection.sendmail(sender, [f"raw-{i}@example.org"], data)
    finished = wait_for(maildir, before + count)
    connection.quit()
    return count / (finished - started), len(data)


def run_worker(settings_json: str) -> None:
    """Child process: one notifier worker until stdin closes."""
    from services.notifier.worker import build_worker

    settings = Settings(**json.loads(settings_json))
    worker = build_worker(settings, NotifierConfig()).start()
    worker.assigned.wait(60)
    print("ready", flush=True)
    sys.stdin.read()
    worker.stop()


def notifier_rate(settings: Settings, maildir: Path, events: int, contacts: int) -> dict:
    child = subprocess.Popen([sys.executable, __file__, "--worker-process", json.dumps(asdict(settings))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"
    publisher = Publisher(settings, "bench-notifier")
    try:
        pids = [f"p-{uuid.uuid4().hex[:12]}" for _ in range(contacts)]
        before = delivered_count(maildir)
        for n, pid in enumerate(pids):
            publisher.send(make_event("participant-registered", pid, participant(pid, n), source="registry"))
        publisher.flush()
        wait_for(maildir, before + contacts)  # every contact known (and welcomed) before the clock starts
        print(f"  {contacts} contacts loaded and welcomed", flush=True)

        before = delivered_count(maildir)
        envelopes = [make_event("clinic-reminder", f"clinic-{n % 17}", reminder(pids[n % contacts], n),
                                source="scheduler") for n in range(events)]
        started = time.perf_counter()
        for envelope in envelopes:
            publisher.send(envelope)
        publisher.flush()
        published = time.perf_counter()
        finished = wait_for(maildir, before + events)
        print(f"  published {events} events in {published - started:.2f}s, all delivered after "
              f"{finished - started:.2f}s", flush=True)
        time.sleep(2)  # let any duplicate arrive before counting
    finally:
        publisher.close()
        child.stdin.close()
        child.wait(60)
    db = database(settings, "notifier")
    sent = db.deliveries.count_documents({"template": "clinic_reminder", "status": "sent"})
    ids = Counter(m["X-LetsConnect-Notification"] for m in read_maildir(maildir)
                  if m["X-LetsConnect-Template"] == "clinic_reminder")
    return {"rate": events / (finished - started), "sent": sent, "messages": sum(ids.values()),
            "distinct": len(ids), "languages": Counter(m["Content-Language"] for m in read_maildir(maildir)
                                                       if m["X-LetsConnect-Template"] == "clinic_reminder")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="clinic-reminder events to deliver")
    parser.add_argument("--contacts", type=int, default=200, help="participants the reminders go to")
    parser.add_argument("--raw", type=int, default=2000, help="messages for the raw smtplib baseline")
    parser.add_argument("--worker-process", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_process:
        run_worker(args.worker_process)
        return
    with embedded_servers() as servers:
        settings = bench_settings(servers)
        maildir = Path(servers.maildir)
        raw, size = raw_send_rate(settings, maildir, args.raw)
        result = notifier_rate(settings, maildir, args.events, args.contacts)
    ratio = result["rate"] / raw
    exactly_once = result["sent"] == result["messages"] == result["distinct"] == args.events
    print(f"command: {command_line()}")
    print(f"raw smtplib send to the sink (one connection, {size} B clinic reminder with .ics): "
          f"{raw:8.0f} msg/s ({args.raw} messages)")
    print(f"notifier: events -> delivered messages (one worker process):          "
          f"{result['rate']:8.0f} msg/s ({args.events} clinic-reminder events, {args.contacts} contacts)")
    print(f"notifier / raw:                                                       {ratio:8.1%}  (target >= 50%)")
    print(f"delivered {result['messages']} reminder messages for {args.events} events, {result['distinct']} distinct, "
          f"{result['sent']} logged sent: {'exactly once' if exactly_once else 'NOT exactly once'}; "
          f"languages {dict(sorted(result['languages'].items()))}")


if __name__ == "__main__":
    main()
