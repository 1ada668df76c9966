"""Benchmark of the scheduler API under gunicorn on the embedded stack (its own servers on free
ports).

Seats: concurrent POST /clinics/{id}/registrations, then overbookings counted from the database.
Targets: 0 overbookings, 0 server errors, p95 < 500 ms.
Suggestions: GET /clinics/suggest-topics, /clinics/suggest-slots and /clinics/suggest-dates over a
read model of 10,000 participants (the demo's population, written straight into the scheduler's
read model, with a fifth of the learners already connected), p50 / p95 per endpoint.

    .venv/bin/python bench/scheduler.py [--clinics 50] [--seats 20] [--attempts 2000] [--clients 32]
                                        [--participants 10000] [--suggestions 60] [--part all|seats|suggestions]
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

from letsconnect.population import population
from services.scheduler.domain.demand import contribution
from services.scheduler.domain.people import from_participant
from services.scheduler.store import Store
from shared.tokens import issue_participant_token
from shared.mongo import database


def seed_read_model(settings, size: int) -> dict:
    """The scheduler's read model of `size` participants as participant-registered would leave it
    (people, a fifth of the learners connected on a topic, and the suggestions' counters), written
    straight into the database: publishing 10,000 events would measure the worker, not the endpoints."""
    rng = random.Random(11)
    people = [from_participant({**applicant.body, "participant_id": f"bench-p{index}", "revision": 1})
              for index, applicant in enumerate(population(size, seed=11, ineligible_share=0))]
    connections = []
    for index, person in enumerate(people):
        person["connected"] = []
        if person["learn"] and rng.random() < 0.2:
            person["connected"] = [person["learn"][0]]
            connections.append({"_id": f"bench-m{index}", "topic": person["learn"][0], "learners": [person["_id"]]})
    store = Store(database(settings, "scheduler"))
    store.people.insert_many(people, ordered=False)
    if connections:
        store.connections.insert_many(connections, ordered=False)
    counters: Counter = Counter()
    for person in people:
        counters.update(contribution(person))
    store.move_counters(dict(counters), None)
    learners = {key: amount for (kind, key, field), amount in counters.items() if kind == "topic" and field == "learners"}
    return {"people": len(people), "connections": len(connections),
            "busiest_topic": max(learners, key=learners.get), "learners": max(learners.values())}


def measure(url: str, paths: list[str], clients: int) -> tuple[list[float], Counter]:
    local = threading.local()

    def get(path):
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        began = time.perf_counter()
        response = session.get(url + path, timeout=120)
        return time.perf_counter() - began, response.status_code

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(get, paths))
    return [latency for latency, _ in results], Counter(code for _, code in results)


def suggestions(args) -> None:
    with embedded_servers() as servers:
        settings = bench_settings(servers)
        seeded = seed_read_model(settings, args.participants)
        with gunicorn_api("scheduler", settings, workers=args.api_workers) as url:
            topic = seeded["busiest_topic"]
            endpoints = {
                "suggest-topics": "/clinics/suggest-topics?limit=10",
                f"suggest-slots ({seeded['learners']} learners)": f"/clinics/suggest-slots?topic={topic}&date=2027-03-03",
                "suggest-dates (region ssa)": "/clinics/suggest-dates?region=ssa",
                f"suggest-dates (theme {topic})": f"/clinics/suggest-dates?theme=t&topic={topic}",
            }
            figures = {}
            for name, path in endpoints.items():
                measure(url, [path] * 4, 2)  # warm the workers
                figures[name] = measure(url, [path] * args.suggestions, args.suggestion_clients)
    print(f"command: {command_line()}")
    print(f"read model:                      {seeded['people']} participants, {seeded['connections']} connections")
    for name, (latencies, codes) in figures.items():
        print(f"{name:<33}{percentile(latencies, 0.5) * 1000:6.0f} / {percentile(latencies, 0.95) * 1000:.0f} ms "
              f"p50 / p95 over {len(latencies)} requests from {args.suggestion_clients} clients; statuses {dict(codes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clinics", type=int, default=50)
    parser.add_argument("--seats", type=int, default=20)
    parser.add_argument("--attempts", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=32, help="concurrent HTTP clients")
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument("--participants", type=int, default=10000, help="read model size for the suggestions")
    parser.add_argument("--suggestions", type=int, default=60, help="requests per suggestion endpoint")
    parser.add_argument("--suggestion-clients", type=int, default=4)
    parser.add_argument("--part", choices=("all", "seats", "suggestions"), default="all")
    args = parser.parse_args()
    if args.part in ("all", "seats"):
        seats(args)
    if args.part in ("all", "suggestions"):
        suggestions(args)


def seats(args) -> None:
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
