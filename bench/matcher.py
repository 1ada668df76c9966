"""Benchmark of the matcher.

1. A round over a seeded synthetic population (regions, languages, time zones and groups as in
   the demo population, topics weighted by the pilot's most wanted skills): round time for
   10,000 learn interests and 2,000 sharers (target < 10 s), share of learners matched, total
   score against a greedy baseline on the same candidate graph (target: never below), the
   sharers' load spread, and hard-rule violations (target 0).
2. Incremental latency on the embedded stack: skill-registered published -> match-proposed on
   the topic, p50 and p95 over --incremental learners (target p95 < 1 s).

    .venv/bin/python bench/matcher.py [--learners 10000] [--sharers 2000] [--incremental 200]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from _stack import bench_settings, command_line, embedded_servers, percentile
from kafka import KafkaConsumer

from letsconnect.population import REGIONS, _pick, _topic_weights
from services.matcher.assignment import feasible_edges, greedy, optimal, plan_round
from services.matcher.config import MatcherConfig
from services.matcher.rules import violation
from shared.bus import Publisher
from shared.events import make_event

NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


def synthetic(count: int, direction: str, rng: random.Random, prefix: str) -> list[dict]:
    topics = _topic_weights()
    people = []
    for i in range(count):
        region = _pick(rng, [(name, spec[0]) for name, spec in REGIONS.items()])
        languages = [lang for lang, weight in REGIONS[region][1] if rng.random() < weight] or [REGIONS[region][1][0][0]]
        people.append({"participant_id": f"{prefix}{i}", "topic": _pick(rng, topics), "direction": direction,
                       "languages": languages[:3], "timezone": rng.choice(REGIONS[region][2]), "region": region,
                       "group": {"name": f"{region}-group-{rng.randrange(60)}", "type": "user_group"},
                       "registered_at": (NOW - timedelta(days=rng.randrange(90))).isoformat()})
    return people


def round_benchmark(learner_count: int, sharer_count: int, seed: int) -> dict:
    rng = random.Random(seed)
    learners = synthetic(learner_count, "learn", rng, "l")
    sharers = synthetic(sharer_count, "share", rng, "s")
    regions = Counter(s["region"] for s in sharers)
    region_share = {r: n / len(sharers) for r, n in regions.items()}
    config = MatcherConfig()
    day = (NOW + timedelta(days=7)).date()
    started = time.perf_counter()
    plan = plan_round(learners, sharers, blocked=set(), connected=set(), loads={}, capacities={},
                      region_share=region_share, config=config, on=day, now=NOW)
    elapsed = time.perf_counter() - started
    edges, _ = feasible_edges(learners, sharers, blocked=set(), connected=set(), loads={}, region_share=region_share,
                              config=config, on=day, now=NOW)
    free = {s["participant_id"]: config.sharer_capacity for s in sharers}
    best = sum(e.score for e in optimal(learners, edges, free))
    base = sum(e.score for e in greedy(learners, edges, free))
    violations, load = 0, Counter()
    for connection in plan.connections:
        load[connection["sharer"]["participant_id"]] += 1
        for edge in connection["learners"]:
            violations += violation(edge.learner, connection["sharer"], set(), set(), day) is not None
    violations += sum(1 for n in load.values() if n > config.sharer_capacity)
    loads = [load.get(s["participant_id"], 0) for s in sharers]
    matched = sum(len(c["learners"]) for c in plan.connections)
    return {"elapsed": elapsed, "matched": matched / learner_count, "connections": len(plan.connections),
            "optimal": best, "greedy": base, "violations": violations, "load_mean": statistics.mean(loads),
            "load_stdev": statistics.pstdev(loads), "load_max": max(loads)}


def incremental_benchmark(count: int) -> tuple[float, float]:
    from services.matcher.worker import build_worker

    with embedded_servers() as servers:
        settings = bench_settings(servers)
        publisher = Publisher(settings, "bench")
        rng = random.Random(5)
        topics = [t for t, _ in _topic_weights()]
        for i, topic in enumerate(topics):  # two sharers per topic, reachable by everyone (English)
            for j in range(2):
                data = {"participant_id": f"sharer-{i}-{j}", "revision": 1, "topic": topic, "direction": "share",
                        "languages": ["en"], "timezone": "Europe/London", "region": "nwe",
                        "group": {"name": f"sharers {i}-{j}", "type": "chapter"}, "share_contact": True,
                        "registered_at": NOW.isoformat()}
                publisher.publish(make_event("skill-registered", data["participant_id"], data, "registry"))
        config = MatcherConfig(sharer_capacity=10_000, proposal_threshold=0)
        worker = build_worker(settings, config).start()
        worker.assigned.wait(30)
        consumer = KafkaConsumer(settings.topic_name("match-proposed"), bootstrap_servers=settings.kafka_bootstrap,
                                 auto_offset_reset="latest", group_id="bench-watch", session_timeout_ms=6000)
        while not consumer.assignment():
            consumer.poll(200)
        sent: dict[str, float] = {}
        latencies: list[float] = []
        done = threading.Event()

        def watch():
            while not done.is_set():
                for records in consumer.poll(200).values():
                    for record in records:
                        learner = next(p["participant_id"] for p in json.loads(record.value)["data"]["participants"]
                                       if p["role"] == "learner")
                        if learner in sent:
                            latencies.append(time.perf_counter() - sent.pop(learner))

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        time.sleep(2)
        for i in range(count):
            data = {"participant_id": f"learner-{i}", "revision": 1, "topic": rng.choice(topics), "direction": "learn",
                    "languages": ["en", "fr"], "timezone": rng.choice(["Africa/Lagos", "Asia/Kolkata", "America/Lima"]),
                    "region": "ssa", "group": {"name": f"learners {i}", "type": "user_group"}, "share_contact": True,
                    "registered_at": NOW.isoformat()}
            sent[data["participant_id"]] = time.perf_counter()
            publisher.publish(make_event("skill-registered", data["participant_id"], data, "registry"))
            time.sleep(0.05)  # a steady 20 registrations a second
        deadline = time.time() + 30
        while sent and time.time() < deadline:
            time.sleep(0.2)
        done.set()
        watcher.join(5)
        consumer.close()
        worker.stop()
        publisher.close()
    return percentile(latencies, 0.5), percentile(latencies, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--sharers", type=int, default=2_000)
    parser.add_argument("--incremental", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    r = round_benchmark(args.learners, args.sharers, args.seed)
    print(f"command: {command_line()}")
    print(f"round over {args.learners} learn interests and {args.sharers} sharers: {r['elapsed']:.2f} s (target < 10 s)")
    print(f"learners matched: {r['matched']:.1%} in {r['connections']} connections")
    print(f"total score: optimal {r['optimal']:.1f} vs greedy {r['greedy']:.1f} "
          f"({(r['optimal'] / r['greedy'] - 1) * 100 if r['greedy'] else 0:+.2f}%; target: never below)")
    print(f"sharer load: mean {r['load_mean']:.2f}, stdev {r['load_stdev']:.2f}, max {r['load_max']}")
    print(f"hard-rule violations: {r['violations']} (target 0)")
    if args.incremental:
        p50, p95 = incremental_benchmark(args.incremental)
        print(f"incremental skill-registered -> match-proposed: p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms "
              f"(target p95 < 1000 ms)")


if __name__ == "__main__":
    main()
