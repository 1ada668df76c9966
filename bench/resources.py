"""Benchmark of resource search: 20,000 resources on the embedded stack, the API under gunicorn,
concurrent searches in Arabic and English with filters. Target: p95 under 200 ms.

    .venv/bin/python bench/resources.py [--resources 20000] [--searches 2000] [--clients 8]
"""
from __future__ import annotations

import argparse
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from _stack import bench_settings, command_line, embedded_servers, gunicorn_api, percentile

from services.resources.library import Library
from services.resources.store import Store
from shared.mongo import database
from shared.taxonomy import base_topics

WORDS_EN = ["budget", "evaluation", "volunteers", "strategy", "newcomers", "campaign", "partnerships", "governance",
            "storytelling", "wikidata", "training", "fundraising", "advocacy", "report", "plan"]
WORDS_AR = ["الميزانية", "التقييم", "المتطوعين", "الاستراتيجية", "الوافدين", "الحملة", "الشراكات", "الحوكمة",
            "التدريب", "التقرير"]


def load(settings, count: int, rng: random.Random) -> None:
    library = Library(Store(database(settings, "resources")))
    library.store.ensure_indexes()
    topics = list(base_topics())
    batch = []
    for i in range(count):
        arabic = rng.random() < 0.3
        words = WORDS_AR if arabic else WORDS_EN
        title = " ".join(rng.sample(words, 3))
        data = {"title": f"{title} {i}", "description": " ".join(rng.sample(words, 5)),
                "kind": rng.choice(["deck", "guideline", "recording", "document"]),
                "url": f"https://commons.example.org/{i}", "language": "ar" if arabic else "en",
                "topics": rng.sample(topics, 2), "clinic": None, "authors": ["Bench"], "license": "CC-BY-SA-4.0",
                "consent": True}
        batch.append(library._document(data, None))
        if len(batch) == 1000:
            library.store.resources.insert_many(batch)
            batch = []
    if batch:
        library.store.resources.insert_many(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=20_000)
    parser.add_argument("--searches", type=int, default=2_000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    rng = random.Random(3)
    with embedded_servers() as servers:
        settings = bench_settings(servers)
        load(settings, args.resources, rng)
        with gunicorn_api("resources", settings, workers=1) as url:
            queries = []
            for _ in range(args.searches):
                words = WORDS_AR if rng.random() < 0.4 else WORDS_EN
                query = {"q": " ".join(rng.sample(words, rng.choice([1, 2])))}
                if rng.random() < 0.3:
                    query["kind"] = rng.choice(["deck", "guideline"])
                if rng.random() < 0.2:
                    query["topic"] = rng.choice(list(base_topics()))
                queries.append(query)
            local = threading.local()

            def search(query):
                session = getattr(local, "session", None) or requests.Session()
                local.session = session
                started = time.perf_counter()
                response = session.get(url + "/resources", params=query, timeout=30)
                return time.perf_counter() - started, response.status_code

            warm = time.perf_counter()
            requests.get(url + "/resources", params={"q": "budget"}, timeout=60).raise_for_status()
            warm = time.perf_counter() - warm  # the first search of a process loads its search index
            started = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                results = list(pool.map(search, queries))
            elapsed = time.perf_counter() - started
    latencies = [latency for latency, _ in results]
    print(f"command: {command_line()}")
    print(f"first search (loads the search index of the API process): {warm * 1000:.0f} ms")
    print(f"{len(results)} searches over {args.resources} resources from {args.clients} clients: "
          f"{len(results) / elapsed:.0f} req/s")
    print(f"latency p50 / p95: {percentile(latencies, 0.5) * 1000:.0f} / {percentile(latencies, 0.95) * 1000:.0f} ms "
          f"(target p95 < 200 ms); errors: {sum(1 for _, s in results if s != 200)}")


if __name__ == "__main__":
    main()
