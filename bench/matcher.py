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


def baselines(learner_count: int, sharer_count: int, seed: int) -> dict:
    """Ours against the methods people use today, on the same population and candidate graph:
    the Capacity Exchange's recommendation (sharers ranked by the count of shared skills, ties at
    random, each learner takes the first sharer with room; no hard rules) and a Yelp-beans-style
    maximum-weight matching (networkx max_weight_matching on 1:1 pairs, our score as weight, one
    node per free connection of a sharer, no groups)."""
    import networkx as nx

    from services.matcher.domain.candidates import feasible_edges

    rng = random.Random(seed)
    learners = synthetic(learner_count, "learn", rng, "l")
    sharers = synthetic(sharer_count, "share", rng, "s")
    regions = Counter(s["region"] for s in sharers)
    region_share = {r: n / len(sharers) for r, n in regions.items()}
    config = MatcherConfig()
    day = (NOW + timedelta(days=7)).date()
    context = dict(blocked=set(), connected=set(), loads={}, region_share=region_share, config=config, on=day, now=NOW)
    edges, _ = feasible_edges(learners, sharers, **context)
    scores = {}
    for edge in edges:
        key = (edge.learner["participant_id"], edge.person)
        scores[key] = max(scores.get(key, float("-inf")), edge.score)

    def pair_violations(pairs):
        by_id = {p["participant_id"]: p for p in learners + sharers}
        return sum(violation(by_id[l], by_id[s], set(), set(), day) is not None for l, s in pairs)

    results = {}
    started = time.perf_counter()
    plan = plan_round(learners, sharers, capacities={}, **context)
    ours_pairs = [(e.learner["participant_id"], c["sharer"]["participant_id"]) for c in plan.connections
                  for e in c["learners"]]
    results["ours"] = {"time": time.perf_counter() - started, "pairs": ours_pairs}
    started = time.perf_counter()
    by_topic: dict[str, list[dict]] = {}
    for sharer in sharers:
        by_topic.setdefault(sharer["topic"], []).append(sharer)
    taken: Counter = Counter()
    capx = []
    for learner in learners:  # one skill each here: every sharer of the topic shares one skill with them
        options = list(by_topic.get(learner["topic"], []))
        rng.shuffle(options)
        for sharer in options:
            if taken[sharer["participant_id"]] < config.sharer_capacity:
                taken[sharer["participant_id"]] += 1
                capx.append((learner["participant_id"], sharer["participant_id"]))
                break
    results["capacity_exchange"] = {"time": time.perf_counter() - started, "pairs": capx}
    started = time.perf_counter()
    graph = nx.Graph()
    for (learner, sharer), weight in scores.items():
        for slot in range(config.sharer_capacity):
            graph.add_edge(("l", learner), ("s", sharer, slot), weight=weight)
    matching = nx.max_weight_matching(graph)
    beans = [(a[1], b[1]) if a[0] == "l" else (b[1], a[1]) for a, b in matching]
    results["yelp_beans"] = {"time": time.perf_counter() - started, "pairs": beans}
    for name, result in results.items():
        pairs = result["pairs"]
        result.update(connected=len({l for l, _ in pairs}) / learner_count,
                      score=sum(scores.get(pair, 0.0) for pair in pairs), violations=pair_violations(pairs))
    return results


def _seed_read_model(settings, people: list[dict]) -> None:
    """Put candidates straight into the matcher's read model (what registry events would build)."""
    from services.matcher.store import Store

    store = Store(database(settings, "matcher"))
    store.ensure_indexes()
    store.candidates.insert_many([{"_id": f"{p['participant_id']}:{p['topic']}:{p['direction']}", **p, "active": True,
                                   "revision": 1, "share_contact": True} for p in people])


def api_round_benchmark(servers, learner_count: int, sharer_count: int, seed: int, workers: int = 1) -> dict:
    """POST /rounds on the embedded stack: its answer time (202), then the time until the workers
    have planned the round and written every proposal and its event (GET /rounds/{id} completed)."""
    from services.matcher.app import create_app
    from services.matcher.worker import build_worker

    settings = bench_settings(servers)
    rng = random.Random(seed)
    _seed_read_model(settings, synthetic(learner_count, "learn", rng, "l") + synthetic(sharer_count, "share", rng, "s"))
    config = MatcherConfig(round_poll_seconds=0.2)
    client = create_app(settings, config).test_client()
    running = [build_worker(settings, config).start() for _ in range(workers)]
    try:
        started = time.perf_counter()
        response = client.post("/rounds", headers={"Authorization": "Bearer bench-staff"}, json={})
        answered = time.perf_counter() - started
        round_id = response.get_json()["id"]
        while True:
            body = client.get(f"/rounds/{round_id}", headers={"Authorization": "Bearer bench-staff"}).get_json()
            if body["status"] in ("completed", "failed"):
                break
            time.sleep(0.2)
        completed = time.perf_counter() - started
    finally:
        for worker in running:
            worker.stop()
    return {"status": response.status_code, "answered": answered, "elapsed": completed,
            "proposals": len(body["proposals"]), "joined": len(body.get("joined", [])), "result": body["status"]}


def incremental_share(servers, count: int, sharer_count: int, seed: int) -> dict:
    """Learners arriving one by one (incremental mode only, no round): the share connected when
    they arrive, with joins (this code) over the bench population."""
    from services.matcher.service import MatcherService
    from services.matcher.store import Store

    settings = bench_settings(servers)
    rng = random.Random(seed)
    sharers = synthetic(sharer_count, "share", rng, "s")
    learners = synthetic(count, "learn", rng, "l")
    _seed_read_model(settings, sharers)
    store = Store(database(settings, "matcher"))
    service = MatcherService(store, MatcherConfig(proposal_threshold=0))
    for learner in learners:
        data = {**learner, "revision": 1, "share_contact": True}
        service.propose_for_learner(_put(store, data))
    connected = store.claims.count_documents({})
    return {"connected": connected / count, "count": count,
            "connections": store.matches.count_documents({}), "joined": sum(
                sum(m.get("joined_at") is not None for m in doc["participants"]) for doc in store.matches.find())}


def _put(store, data: dict) -> str:
    from services.matcher.domain.read_model import candidate

    doc = candidate(data)
    store.put_candidates([doc])
    return doc["_id"]


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
    parser.add_argument("--baseline-learners", type=int, default=2_000)
    parser.add_argument("--baseline-sharers", type=int, default=400)
    parser.add_argument("--one-by-one", type=int, default=1_000)
    parser.add_argument("--one-by-one-sharers", type=int, default=200)
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
    b = baselines(args.baseline_learners, args.baseline_sharers, args.seed)
    ours = b["ours"]
    print(f"side by side, {args.baseline_learners} learn interests x {args.baseline_sharers} sharers (seed {args.seed}):")
    for name, r in b.items():
        ratio = "" if name == "ours" else (f"; ours/{name}: connected x{ours['connected'] / r['connected']:.2f}, "
                                           f"score x{ours['score'] / r['score']:.2f}" if r["score"] else "")
        print(f"  {name:18} connected {r['connected']:.1%}, total score {r['score']:.1f}, "
              f"hard-rule violations {r['violations']}, time {r['time']:.2f} s{ratio}")
    if args.incremental:
        with embedded_servers() as servers:
            for workers in (1, 2):
                api = api_round_benchmark(servers, args.learners, args.sharers, args.seed, workers)
                print(f"POST /rounds with {workers} worker(s): answered {api['answered'] * 1000:.0f} ms (HTTP "
                      f"{api['status']}, target < 200 ms); round {api['result']} after {api['elapsed']:.1f} s "
                      f"({api['proposals']} proposals and their events written)")
            share = incremental_share(servers, args.one_by_one, args.one_by_one_sharers, args.seed)
            print(f"incremental only, {share['count']} learners arriving one by one over {args.one_by_one_sharers} "
                  f"sharers: {share['connected']:.1%} connected on arrival, in {share['connections']} connections "
                  f"({share['joined']} joins)")
            inc = incremental_benchmark(servers, args.incremental, args.sharers, args.seed)
        print(f"incremental skill-registered -> match-proposed ({inc['proposed']} of {inc['count']} new learners "
              f"proposed at once, {args.sharers} sharers in the read model): p50 {inc['p50'] * 1000:.0f} ms, "
              f"p95 {inc['p95'] * 1000:.0f} ms (target p95 < 1000 ms)")

if __name__ == "__main__":
    main()
