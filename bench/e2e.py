"""End to end on the embedded stack: from POST /participants of a learner to the match-proposal
email in the mail sink, p50 and p95 over learners registering at a steady rate, with the p50/p95
of every hop on the way (from the services' own histograms), the machine's raw produce and insert
rates in the same run, and a check that every learner got exactly one proposal.
Targets: p95 < 1.5 s at 5 registrations/s, p95 < 3 s at 20 registrations/s.

    .venv/bin/python bench/e2e.py [--learners 200] [--rate 5]
"""
from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import requests
from _hops import counter_increase, format_hops, hop_figures, scrape
from _stack import command_line, percentile, raw_insert_rate, raw_produce_rate

from letsconnect.servers import EmbeddedServers, free_port
from letsconnect.stack import Stack
from shared.config import SERVICES, Settings

TOPICS = ["organisation-strategy", "query-tools", "learning-evaluation-plans", "social-media-press",
          "volunteer-management"]


def person(index: int, topic: str, direction: str, tz: str) -> dict:
    return {"username": f"Bench {direction} {index}", "name": f"Bench {index}",
            "email": f"{direction}{index}@bench.example.org", "languages": ["en", "fr"], "timezone": tz,
            "region": "ssa" if direction == "learn" else "nwe",
            "group": {"name": f"Bench group {direction} {index}", "type": "user_group"}, "role": "volunteer",
            "purpose": "organising", "interests": [{"topic": topic, "direction": direction}],
            "consent": {"public_profile": False, "share_contact": True, "recording": False}}


def is_proposal(raw: bytes) -> tuple[str, bool]:
    message = message_from_bytes(raw, policy=default_policy)
    return str(message["X-Envelope-To"] or ""), message["X-LetsConnect-Template"] == "match_proposal"


def scrape_all(settings: Settings) -> dict[str, dict]:
    return {service: scrape(f"http://{settings.host}:{settings.ports[service]}/metrics") for service in SERVICES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="registrations per second")
    parser.add_argument("--produce", type=int, default=20000, help="messages for the raw produce rate")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lc-e2e-") as tmp:
        servers = EmbeddedServers(Path(tmp), free_port(), free_port(), free_port())
        settings = Settings(ports={s: free_port() for s in SERVICES}, staff_tokens=("bench-staff",))
        stack = Stack(settings, servers, api_workers=1)
        try:
            stack.start()  # inside: a stack that fails to start still stops what it started
            produce = raw_produce_rate(stack.settings, args.produce)
            insert = raw_insert_rate(stack.settings, 3000)
            url = f"http://127.0.0.1:{settings.ports['registry']}/participants"
            session = requests.Session()
            sharers = -(-args.learners // 3) + len(TOPICS)  # enough free capacity (3 each) for every learner
            for i, topic in enumerate((TOPICS * sharers)[:sharers]):
                session.post(url, json=person(i, topic, "share", "Europe/London"), timeout=30).raise_for_status()
            time.sleep(3)  # the matcher's read model takes the sharers in
            sent: dict[str, float] = {}
            learners: set[str] = set()
            latencies: list[float] = []
            posts: list[float] = []
            proposals: Counter[str] = Counter()
            seen: set[str] = set()
            maildir = servers.maildir / "new"
            done = threading.Event()

            def watch():
                while not done.is_set():
                    for path in list(maildir.iterdir()) if maildir.exists() else []:
                        if path.name in seen:
                            continue
                        seen.add(path.name)
                        recipient, proposal = is_proposal(path.read_bytes())
                        if proposal and recipient in learners:
                            proposals[recipient] += 1
                            if recipient in sent:
                                latencies.append(path.stat().st_mtime - sent.pop(recipient))
                    time.sleep(0.05)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            before = scrape_all(settings)
            zones = ["Africa/Lagos", "Africa/Nairobi", "Africa/Johannesburg"]
            started = time.time()
            for i in range(args.learners):
                body = person(i, TOPICS[i % len(TOPICS)], "learn", zones[i % 3])
                learners.add(body["email"])
                sent[body["email"]] = posted = time.time()
                session.post(url, json=body, timeout=30).raise_for_status()
                posts.append(time.time() - posted)
                time.sleep(max(0.0, started + (i + 1) / args.rate - time.time()))
            deadline = time.time() + 60
            while sent and time.time() < deadline:
                time.sleep(0.2)
            time.sleep(2)  # a second proposal to the same learner would arrive about now
            done.set()
            watcher.join(5)
            after = scrape_all(settings)
        finally:
            stack.stop()
    twice = sum(1 for count in proposals.values() if count > 1)
    print(f"command: {command_line()}")
    print(f"raw kafka-python produce (acks=all, 600 B): {produce:8.0f} msg/s; "
          f"raw single-document insert: {insert:6.0f} docs/s (this run, same servers)")
    print(f"{len(latencies)} of {args.learners} learners got their match-proposal email "
          f"({args.rate:g} registrations/s); {twice} got more than one")
    print(f"  POST /participants answered:                                      p50 {percentile(posts, 0.5):6.2f} s  "
          f"p95 {percentile(posts, 0.95):6.2f} s")
    for line in format_hops(hop_figures(before, after)):
        print(line)
    rebalances = {service: int(counter_increase(before[service], after[service], "lc_consumer_rebalances_total"))
                  for service in SERVICES}
    print("  consumer group rebalances during the run: " + ", ".join(f"{s} {n}" for s, n in rebalances.items()))
    print(f"POST /participants -> proposal in the mail sink (total):              p50 "
          f"{percentile(latencies, 0.5):6.2f} s  p95 {percentile(latencies, 0.95):6.2f} s "
          f"(target p95 < {1.5 if args.rate <= 5 else 3} s)")


if __name__ == "__main__":
    main()
