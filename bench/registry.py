"""Benchmark of registrations: POST /participants from concurrent clients against the API under
gunicorn on the embedded stack, compared with the database's raw single-insert rate.
Targets: sustained registrations >= 20% of the raw insert rate, p95 < 250 ms, zero errors.

    .venv/bin/python bench/registry.py [--registrations 3000] [--warmup 200] [--clients 8] [--api-workers 1]
"""
from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor

from _stack import (KeepAliveClient, bench_settings, command_line, embedded_servers, gunicorn_api, percentile,
                    raw_insert_rate)

from letsconnect.population import population


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200,
                        help="registrations sent first and left out of the rate and latencies (connection pools, "
                             "caches); their errors still count")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--api-workers", type=int, default=1, help="gunicorn processes (2 cores here: 1 leaves the other to the database)")
    args = parser.parse_args()
    bodies = [a.body for a in population(args.warmup + args.registrations, seed=11, ineligible_share=0.0)]
    with embedded_servers() as servers:
        settings = bench_settings(servers)
        raw = raw_insert_rate(settings)
        with gunicorn_api("registry", settings, workers=args.api_workers) as url:
            client = KeepAliveClient(url)

            def register(body):
                started = time.perf_counter()
                status, _ = client.post_json("/participants", body)
                return time.perf_counter() - started, status

            with ThreadPoolExecutor(args.clients) as pool:
                warmup = list(pool.map(register, bodies[:args.warmup]))
                started = time.perf_counter()
                results = list(pool.map(register, bodies[args.warmup:]))
                elapsed = time.perf_counter() - started
    latencies = [latency for latency, _ in results]
    errors = sum(1 for _, status in warmup + results if status != 201)
    rate = len(results) / elapsed
    print(f"command: {command_line()}")
    print(f"raw single-document insert (pymongo):  {raw:8.0f} docs/s")
    print(f"registrations (POST /participants):    {rate:8.0f} req/s  ({len(results)} from {args.clients} clients after "
          f"{len(warmup)} warm-up, gunicorn {args.api_workers} workers)")
    print(f"registrations / raw insert:            {rate / raw:8.1%}  (target >= 20%)")
    print(f"latency p50 / p95:                     {percentile(latencies, 0.5) * 1000:6.0f} / "
          f"{percentile(latencies, 0.95) * 1000:.0f} ms  (target p95 < 250 ms)")
    print(f"errors:                                {errors:8d}  (target 0)")


if __name__ == "__main__":
    main()
