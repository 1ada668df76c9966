"""Browsing the portal: 20 concurrent sessions on the embedded stack (`letsconnect up`'s Stack: the
portal and the five APIs under gunicorn), each a person going from page to page with a pause to read
(directory with filters and its next page, clinics and a clinic, resources with a search and a
resource, and their own page /me, signed in), in the five languages and several time zones. Target: pages p95 < 200 ms, 0 errors.

    .venv/bin/python bench/portal.py [--sessions 20] [--seconds 60] [--think 1.0] [--people 300]

--think is the mean pause between two pages of one session (uniform between 0.5x and 1.5x);
--think 0 is a stress run with no pause at all (20 pages always in flight).
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlencode

import requests
from _hops import scrape
from _stack import command_line, percentile

from letsconnect.servers import EmbeddedServers, free_port
from letsconnect.stack import Stack
from shared.config import SERVICES, Settings
from shared.events.fields import REGIONS
from shared.taxonomy import base_topics

LANGUAGES = ("en", "ar", "es", "fr", "pt")
ZONES = ("Africa/Cairo", "America/Sao_Paulo", "Asia/Kolkata", "Europe/Paris", "Asia/Jakarta", "Africa/Lagos")
STAFF = "bench-staff"


def seed(stack_urls: dict[str, str], people: int, rng: random.Random) -> dict[str, list[str]]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {STAFF}"
    topics = list(base_topics())
    sessions = []
    for i in range(people):
        tag = uuid.uuid4().hex[:6]
        registered = session.post(stack_urls["registry"] + "/participants", timeout=30, json={
            "username": f"Bench {i} {tag}", "name": f"Person {i}", "email": f"p{i}.{tag}@bench.example.org",
            "languages": rng.sample(["ar", "en", "es", "fr", "pt", "sw", "hi"], 2), "timezone": rng.choice(ZONES),
            "region": rng.choice(REGIONS), "group": {"name": f"Group {i % 40}", "type": "user_group"},
            "role": "volunteer", "purpose": "organising",
            "interests": [{"topic": t, "direction": rng.choice(["learn", "share"])} for t in rng.sample(topics, 3)],
            "consent": {"public_profile": True, "share_contact": True, "recording": False}})
        registered.raise_for_status()
        sessions.append(registered.json()["token"])  # a session token: the bench's people are signed in
    clinics = []
    start = (datetime.now(timezone.utc) + timedelta(days=10)).replace(minute=0, second=0, microsecond=0)
    for i in range(12):
        answer = session.post(stack_urls["scheduler"] + "/clinics", timeout=30, json={
            "kind": "monthly", "title": f"Clinic {i}: {topics[i]}", "description": "A benchmark clinic.",
            "topics": [topics[i]], "language": "en", "interpretation": ["ar", "fr"], "seats": 20,
            "slots": [{"start": (start + timedelta(days=i)).isoformat(), "minutes": 90},
                      {"start": (start + timedelta(days=i, hours=8)).isoformat(), "minutes": 90}]})
        answer.raise_for_status()
        clinics.append(answer.json()["id"])
    resources = []
    for i in range(150):
        answer = session.post(stack_urls["resources"] + "/resources", timeout=30, json={
            "title": f"{rng.choice(['Budget', 'Evaluation', 'Strategy', 'Volunteers'])} guide {i}",
            "description": "How our group did it, step by step.", "kind": rng.choice(["deck", "guideline", "document"]),
            "url": f"https://commons.example.org/{i}.pdf", "language": rng.choice(["en", "ar", "fr", "es", "pt"]),
            "topics": rng.sample(topics, 2)})
        answer.raise_for_status()
        resources.append(answer.json()["id"])
    return {"clinics": clinics, "resources": resources, "topics": topics, "sessions": sessions}


def _stat(pid: int) -> tuple[int, float] | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # ppid, user+system


def cpu_seconds(stack: Stack) -> dict[str, float]:
    """CPU time used so far by each of the stack's processes and their children (gunicorn workers):
    what a page costs, whatever else the machine is doing."""
    stats = {int(d.name): _stat(int(d.name)) for d in Path("/proc").iterdir() if d.name.isdigit()}
    children: dict[int, list[int]] = defaultdict(list)
    for pid, stat in stats.items():
        if stat:
            children[stat[0]].append(pid)

    def total(pid: int) -> float:
        return (stats.get(pid) or (0, 0.0))[1] + sum(total(child) for child in children.get(pid, []))

    return {name: total(child.process.pid) for name, child in stack.children.items() if child.process is not None}


def settle(urls: dict[str, str], quiet_seconds: float = 3.0, timeout: float = 180.0) -> float:
    """Wait until the seed's events are all published and applied (every outbox empty, every
    consumer caught up, for `quiet_seconds`), so that the pages are measured, not the matcher,
    the invitations and the welcome mails of 300 registrations arriving at once. Seconds waited."""
    started = time.time()
    quiet_since = None
    while time.time() - started < timeout:
        pending = 0.0
        for url in urls.values():
            samples = scrape(url + "/metrics")
            pending += sum(value for (name, _), value in samples.items()
                           if name in ("lc_consumer_lag", "lc_outbox_backlog"))
        now = time.time()
        quiet_since = (quiet_since or now) if pending == 0 else None
        if quiet_since is not None and now - quiet_since >= quiet_seconds:
            break
        time.sleep(0.5)
    return time.time() - started


class Browser:
    """One person's keep-alive connection to the portal, with their language and zone cookies."""

    def __init__(self, port: int, language: str, zone: str, session_token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = f"lc_lang={language}; lc_tz={zone}; lc_session={session_token}"

    def get(self, path: str) -> tuple[int, str, float]:
        started = time.perf_counter()
        try:
            self.connection.request("GET", path, headers={"Cookie": self.cookie, "Accept-Language": "en"})
            response = self.connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            return response.status, body, time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            self.connection.close()
            return 0, "", time.perf_counter() - started


def browse(port: int, data: dict, until: float, think: float, rng: random.Random, results, errors) -> None:
    browser = Browser(port, rng.choice(LANGUAGES), rng.choice(ZONES), rng.choice(data["sessions"]))

    def page(kind: str, path: str) -> str:
        status, body, elapsed = browser.get(path)
        results[kind].append(elapsed)
        if status != 200:
            errors.append((kind, path, status))
        if think:
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
        return body

    while time.time() < until:
        filters = {"topic": rng.choice(data["topics"])} if rng.random() < 0.5 else {}
        if rng.random() < 0.5:
            filters["region"] = rng.choice(REGIONS)
        body = page("directory", "/directory?" + urlencode(filters))
        following = re.search(r'href="([^"]+)" rel="next"', body)
        if following:
            page("directory next page", following.group(1).replace("&amp;", "&"))
        page("clinics", "/clinics")
        page("clinic", f"/clinics/{rng.choice(data['clinics'])}")
        page("resources", "/resources?" + urlencode({"q": rng.choice(["budget", "guide", "strategy", "plan"])}))
        page("resource", f"/resources/{rng.choice(data['resources'])}")
        page("my page", "/me")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between pages, seconds (0: none)")
    parser.add_argument("--people", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory(prefix="lc-portal-") as tmp:
        servers = EmbeddedServers(Path(tmp), free_port(), free_port(), free_port())
        settings = Settings(ports={s: free_port() for s in SERVICES}, staff_tokens=(STAFF,))
        portal_port = free_port()
        os.environ["LC_STAFF_TOKENS"] = STAFF  # the stack's processes read their settings from the environment
        stack = Stack(settings, servers, portal_port=portal_port, say=lambda *_: None)
        stack.start()
        try:
            urls = {s: f"http://127.0.0.1:{p}" for s, p in settings.ports.items()}
            data = seed(urls, args.people, rng)
            settled = settle(urls)
            for language in LANGUAGES:  # each gunicorn worker builds its option lists once per language
                for _ in range(4):
                    for path in ("/directory", "/clinics", "/resources"):
                        requests.get(f"http://127.0.0.1:{portal_port}{path}?lang={language}", timeout=60)
            results: dict[str, list[float]] = defaultdict(list)
            errors: list = []
            until = time.time() + args.seconds
            sessions = [threading.Thread(target=browse, args=(portal_port, data, until, args.think,
                                                              random.Random(i), results, errors))
                        for i in range(args.sessions)]
            cpu_before = cpu_seconds(stack)
            started = time.time()
            for session in sessions:
                session.start()
            for session in sessions:
                session.join()
            elapsed = time.time() - started
            cpu_after = cpu_seconds(stack)
        finally:
            stack.stop()
    every = [t for times in results.values() for t in times]
    print(f"command: {command_line()}")
    print(f"the seed ({args.people} people) settled in {settled:.0f} s before browsing began")
    print(f"{args.sessions} browsing sessions for {elapsed:.0f} s (mean pause {args.think:g} s between pages), "
          f"{len(every)} pages, {len(every) / elapsed:.1f} pages/s, {len(errors)} errors")
    for kind, times in sorted(results.items()):
        print(f"  {kind:<20} {len(times):>5} pages  p50 {1000 * percentile(times, 0.5):6.1f} ms  "
              f"p95 {1000 * percentile(times, 0.95):6.1f} ms  max {1000 * max(times):6.1f} ms")
    p95 = 1000 * percentile(every, 0.95)
    print(f"all pages: p50 {1000 * percentile(every, 0.5):.1f} ms, p95 {p95:.1f} ms (target p95 < 200 ms, 0 errors)"
          f" -> {'met' if p95 < 200 and not errors else 'NOT met'}")
    for error in errors[:5]:
        print("  error:", error)
    used = {name: cpu_after.get(name, 0.0) - cpu_before.get(name, 0.0) for name in cpu_after}
    busiest = sorted(used.items(), key=lambda item: -item[1])[:6]
    print(f"CPU per page (ms): " + ", ".join(f"{name} {1000 * seconds / max(1, len(every)):.1f}"
                                              for name, seconds in busiest)
          + f"; the stack in all {1000 * sum(used.values()) / max(1, len(every)):.1f} ms on {os.cpu_count()} cores"
          + f"; machine load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
