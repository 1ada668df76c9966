"""Benchmark of clinic seats: concurrent POST /clinics/{id}/registrations against the API under
gunicorn on the embedded stack (its own servers on free ports), then overbookings counted from
the database. Targets: 0 overbookings, 0 server errors, p95 < 500 ms.

    .venv/bin/python bench/scheduler.py [--clinics 50] [--seats 20] [--attempts 2000] [--clients 32]
"""
from __future__ import annotations

import argparse
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import requests
from _stack import bench_settings, command_line, embedded_servers, gunicorn_api, percentile

from shared.tokens import issue_participant_token
from shared.mongo import database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinics", type=int, default=50)
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--api-workers", type=int, default=2)
    args = parser.parse_args()
    rng = random.Random(7)
    with embedded_servers() as servers:
        settings = bench_settings(servers)
        staff = {"Authorization": f"Bearer {settings.staff_tokens[0]}"}
        with gunicorn_api("scheduler", settings, workers=args.api_workers) as url:
            start = (datetime.now(timezone.utc) + timedelta(days=10)).replace(microsecond=0)
            clinics = []
            for index in range(args.clinics):
                response = requests.post(url + "/clinics", headers=staff, timeout=30, json={
                    "kind": "monthly", "title": f"Bench clinic {index}", "topics": ["budget-development"],
                    "slots": [{"start": (start + timedelta(hours=index)).isoformat(), "minutes": 90}],
                    "language": "en", "interpretation": ["ar"], "seats": args.seats,
                    "meeting_url": "https://meet.example.org/bench"})
                response.raise_for_status()
                clinics.append(response.json())
            attempts = []
            for index in range(args.attempts):
                clinic = clinics[index % len(clinics)]
                pid = f"bench-{index}"
                attempts.append((clinic["id"], clinic["slots"][0]["id"], pid, issue_participant_token(settings, pid)))
            rng.shuffle(attempts)
            local = threading.local()

            def register(attempt):
                clinic_id, slot_id, pid, token = attempt
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                began = time.perf_counter()
                response = session.post(f"{url}/clinics/{clinic_id}/registrations", timeout=60,
                                        headers={"Authorization": f"Bearer {token}"},
                                        json={"participant": pid, "slot": slot_id})
                status = response.json().get("status") if response.status_code == 201 else None
                return time.perf_counter() - began, response.status_code, status

            began = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(register, attempts))
            elapsed = time.perf_counter() - began
        db = database(settings, "scheduler")
        confirmed = Counter(r["slot_id"] for r in db.registrations.find({"status": "confirmed"}, {"slot_id": 1}))
        seats = {s["_id"]: s["seats"] for s in db.slots.find({}, {"seats": 1})}
        overbooked = sum(max(0, confirmed[slot] - seats[slot]) for slot in seats)
        counters_off = sum(1 for s in db.slots.find() if s["confirmed"] != confirmed[s["_id"]])
        waitlisted = db.registrations.count_documents({"status": "waitlisted"})
    latencies = [latency for latency, _, _ in results]
    codes = Counter(code for _, code, _ in results)
    server_errors = sum(n for code, n in codes.items() if code >= 500)
    print(f"command: {command_line()}")
    print(f"clinics x seats:                 {args.clinics} x {args.seats} = {args.clinics * args.seats} seats")
    print(f"registration attempts:           {len(results)} from {args.clients} concurrent clients "
          f"(gunicorn {args.api_workers} workers x 8 threads)")
    print(f"registrations/s:                 {len(results) / elapsed:8.0f}")
    print(f"latency p50 / p95:               {percentile(latencies, 0.5) * 1000:6.0f} / "
          f"{percentile(latencies, 0.95) * 1000:.0f} ms  (target p95 < 500 ms)")
    print(f"confirmed / waitlisted:          {sum(confirmed.values())} / {waitlisted}")
    print(f"overbookings (from the db):      {overbooked:8d}  (target 0; seat counters off: {counters_off})")
    print(f"server errors (5xx):             {server_errors:8d}  (target 0); statuses {dict(codes)}")


if __name__ == "__main__":
    main()
