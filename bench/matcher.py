"""Benchmark of the matcher.

1. A round over a seeded synthetic population (regions, languages, time zones and groups as in
   the demo population, topics weighted by the pilot's most wanted skills): round time for
   10,000 learn interests and 2,000 sharers (target < 10 s), share of learners matched, total
   score against a greedy baseline on the same candidate graph (target: never below) and against
   the LP upper bound, the sharers' load spread, and hard-rule violations (target 0).
2. On the embedded stack: POST /rounds over the same population (the plan plus writing every
   proposal and its event), and the incremental latency from skill-registered published to
   match-proposed read, p50 and p95 over --incremental new learners arriving at 20 a second
   against a read model of --sharers sharers (target p95 < 1 s).

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
from services.matcher.domain.assignment import greedy, plan_round
from services.matcher.config import MatcherConfig
from services.matcher.domain.rules import group_is_valid, violation
from shared.bus import Publisher
from shared.mongo import database
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
    context = dict(blocked=set(), connected=set(), loads={}, capacities={}, region_share=region_share, config=config,
                   on=day, now=NOW)
    started = time.perf_counter()
    plan = plan_round(learners, sharers, **context)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    baseline = plan_round(learners, sharers, **context, solver=greedy)
    greedy_elapsed = time.perf_counter() - started
    violations, load, seen = 0, Counter(), set()
    for connection in plan.connections:
        sharer = connection["sharer"]
        load[sharer["participant_id"]] += 1
        members = [edge.learner for edge in connection["learners"]]
        violations += not group_is_valid(sharer, members, connection["language"])
        for learner in members:
            violations += violation(learner, sharer, set(), set(), day) is not None
            violations += learner["participant_id"] in seen
            seen.add(learner["participant_id"])
    violations += sum(1 for n in load.values() if n > config.sharer_capacity)
    loads = [load.get(s["participant_id"], 0) for s in sharers]
    matched = sum(len(c["learners"]) for c in plan.connections)
    return {"elapsed": elapsed, "greedy_elapsed": greedy_elapsed, "matched": matched / learner_count,
            "greedy_matched": sum(len(c["learners"]) for c in baseline.connections) / learner_count,
            "connections": len(plan.connections), "sizes": Counter(len(c["learners"]) + 1 for c in plan.connections),
            "optimal": plan.total_score, "greedy": baseline.total_score, "bound": plan.bound, "proven": plan.proven,
            "methods": plan.methods, "violations": violations, "load_mean": statistics.mean(loads),
            "load_stdev": statistics.pstdev(loads), "load_max": max(loads), "load_histogram": Counter(loads),
            "unmatched": Counter(u["reason"] for u in plan.unmatched)}


def _seed_read_model(settings, people: list[dict]) -> None:
    """Put candidates straight into the matcher's read model (what registry events would build)."""
    from services.matcher.store import Store

    store = Store(database(settings, "matcher"))
    store.ensure_indexes()
    store.candidates.insert_many([{"_id": f"{p['participant_id']}:{p['topic']}:{p['direction']}", **p, "active": True,
                                   "revision": 1, "share_contact": True} for p in people])


def api_round_benchmark(servers, learner_count: int, sharer_count: int, seed: int) -> dict:
    """POST /rounds on the embedded stack: the plan plus writing every proposal and its event."""
    from services.matcher.app import create_app

    settings = bench_settings(servers)
    rng = random.Random(seed)
    _seed_read_model(settings, synthetic(learner_count, "learn", rng, "l") + synthetic(sharer_count, "share", rng, "s"))
    client = create_app(settings, MatcherConfig()).test_client()
    started = time.perf_counter()
    response = client.post("/rounds", headers={"Authorization": "Bearer bench-staff"})
    elapsed = time.perf_counter() - started
    body = response.get_json()
    return {"status": response.status_code, "elapsed": elapsed, "proposals": len(body["proposals"])}


def incremental_benchmark(servers, count: int, sharer_count: int, seed: int) -> dict:
    """Learners registering at a steady 20 a second against a read model of `sharer_count`
    sharers: the time from publishing skill-registered to reading match-proposed."""
    from services.matcher.worker import build_worker

    settings = bench_settings(servers)
    rng = random.Random(seed)
    _seed_read_model(settings, synthetic(sharer_count, "share", rng, "s"))
    learners = synthetic(count, "learn", rng, "newcomer-")
    publisher = Publisher(settings, "bench")
    worker = build_worker(settings, MatcherConfig()).start()
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
    for learner in learners:
        data = {**learner, "revision": 1, "share_contact": True, "registered_at": NOW.isoformat()}
        sent[data["participant_id"]] = time.perf_counter()
        publisher.publish(make_event("skill-registered", data["participant_id"], data, "registry"))
        time.sleep(0.05)  # a steady 20 registrations a second
    deadline = time.time() + 20
    while sent and time.time() < deadline:
        time.sleep(0.2)
    done.set()
    watcher.join(5)
    consumer.close()
    worker.stop()
    publisher.close()
    return {"p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95), "proposed": len(latencies),
            "count": count}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--sharers", type=int, default=2_000)
    parser.add_argument("--incremental", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    r = round_benchmark(args.learners, args.sharers, args.seed)
    print(f"command: {command_line()}")
    print(f"round over {args.learners} learn interests and {args.sharers} sharers (seed {args.seed}): "
          f"{r['elapsed']:.2f} s (target < 10 s; greedy {r['greedy_elapsed']:.2f} s)")
    print(f"learners matched: {r['matched']:.1%} (greedy {r['greedy_matched']:.1%}) in {r['connections']} connections; "
          f"people per connection: {dict(sorted(r['sizes'].items()))}")
    print(f"unmatched by reason: {dict(r['unmatched'].most_common())}")
    print(f"total score: {r['optimal']:.1f} vs greedy {r['greedy']:.1f} "
          f"({(r['optimal'] / r['greedy'] - 1) * 100 if r['greedy'] else 0:+.2f}%; target: never below); "
          f"upper bound {r['bound']:.1f} ({(1 - r['optimal'] / r['bound']) * 100:.2f}% below it), "
          f"proven optimal: {'yes' if r['proven'] else 'no'}; parts by method: {r['methods']}")
    print(f"sharer load (connections): mean {r['load_mean']:.2f}, stdev {r['load_stdev']:.2f}, max {r['load_max']}, "
          f"sharers by load {dict(sorted(r['load_histogram'].items()))}")
    print(f"hard-rule violations: {r['violations']} (target 0)")
    if args.incremental:
        with embedded_servers() as servers:
            api = api_round_benchmark(servers, args.learners, args.sharers, args.seed)
            print(f"POST /rounds on the embedded stack (plan, then {api['proposals']} proposals and their events "
                  f"written): {api['elapsed']:.1f} s, HTTP {api['status']}")
            inc = incremental_benchmark(servers, args.incremental, args.sharers, args.seed)
        print(f"incremental skill-registered -> match-proposed ({inc['proposed']} of {inc['count']} new learners "
              f"proposed at once, {args.sharers} sharers in the read model): p50 {inc['p50'] * 1000:.0f} ms, "
              f"p95 {inc['p95'] * 1000:.0f} ms (target p95 < 1000 ms)")

if __name__ == "__main__":
    main()
