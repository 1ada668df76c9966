"""Benchmark of the event bus on the embedded stack.

Prints, from one run: the raw kafka-python produce rate, the raw single-document insert rate of
the database, and the end-to-end rate of events written through the outbox (state + event in one
transaction: one bulkWrite and the commit, shared.mongo.write_atomically) and applied by a
consumer through the inbox, with its ratio to the raw insert rate.
Target: end-to-end >= 25% of the raw insert rate, every event applied exactly once.

    .venv/bin/python bench/bus.py [--events 3000] [--writers 1] [--poll-ms 50]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import asdict

from _stack import bench_settings, command_line, embedded_servers, raw_insert_rate, raw_produce_rate
from pymongo import UpdateOne

from shared.inbox import IdempotentHandler, Inbox
from shared.config import Settings
from shared.mongo import database, write_atomically
from shared.outbox import Outbox
from shared.worker import Worker


def withdrawn(pid: str) -> dict:
    return {"participant_id": pid, "revision": 2, "withdrawn_at": "2026-11-24T10:00:00Z"}


def build_workers(settings) -> list[Worker]:
    """The registry-side relay and the matcher-side consumer, as the real worker processes run them."""
    consumer_db = database(settings, "matcher")
    inbox = Inbox(consumer_db, "matcher")
    apply = IdempotentHandler(inbox, writes=lambda envelope: [UpdateOne(
        {"_id": envelope["subject"]}, {"$set": {"event": envelope["id"], "withdrawn": True}}, upsert=True,
        namespace=consumer_db.applied.full_name)])
    return [Worker("registry", settings, database(settings, "registry"), handlers={}),
            Worker("matcher", settings, consumer_db, handlers={"participant-withdrawn": apply}, relay=False)]


def run_workers(settings_json: str) -> None:
    """Child process: run both workers until stdin closes."""
    settings = Settings(**json.loads(settings_json))
    workers = [w.start() for w in build_workers(settings)]
    workers[1].assigned.wait(30)
    print("ready", flush=True)
    sys.stdin.read()
    for worker in workers:
        worker.stop()


def end_to_end(settings, count: int, writers: int) -> tuple[float, int, int]:
    producer_db = database(settings, "registry")
    outbox = Outbox(producer_db, "registry")
    consumer_db = database(settings, "matcher")
    child = subprocess.Popen([sys.executable, __file__, "--worker-process", json.dumps(asdict(settings))],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "ready"

    ids = [uuid.uuid4().hex for _ in range(count)]

    def write(chunk):
        for pid in chunk:  # as the registry writes: state and event in one bulkWrite, then the commit
            write_atomically(producer_db, [
                UpdateOne({"_id": pid}, {"$set": {"withdrawn": True}}, upsert=True,
                          namespace=producer_db.participants.full_name),
                outbox.insert_operation([("participant-withdrawn", withdrawn(pid))])])

    started = time.perf_counter()
    threads = [threading.Thread(target=write, args=(ids[i::writers],)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    while consumer_db.applied.estimated_document_count() < count and time.perf_counter() - started < 300:
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    time.sleep(2)  # let any straggling duplicate arrive before counting
    applied = consumer_db.inbox.count_documents({})
    distinct = len(consumer_db.applied.distinct("_id"))
    child.stdin.close()
    child.wait(30)
    return applied / elapsed, applied, distinct


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--writers", type=int, default=1)
    parser.add_argument("--produce", type=int, default=20000)
    parser.add_argument("--poll-ms", type=int, default=50, help="outbox relay poll interval (LC_OUTBOX_POLL_MS)")
    parser.add_argument("--worker-process", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker_process:
        run_workers(args.worker_process)
        return
    with embedded_servers() as servers:
        settings = bench_settings(servers, outbox_poll_ms=args.poll_ms)
        produce = raw_produce_rate(settings, args.produce)
        insert = raw_insert_rate(settings, 3000)
        rate, applied, distinct = end_to_end(settings, args.events, args.writers)
    ratio = rate / insert
    print(f"command: {command_line()}")
    print(f"raw kafka-python produce (acks=all, 600 B):   {produce:10.0f} msg/s")
    print(f"raw single-document insert (pymongo):         {insert:10.0f} docs/s")
    print(f"outbox -> Kafka -> inbox end to end:          {rate:10.0f} events/s "
          f"({args.events} events, {args.writers} writers)")
    print(f"end-to-end / raw insert:                      {ratio:10.1%}  (target >= 25%)")
    print(f"applied {applied} of {args.events}, distinct {distinct}: "
          f"{'exactly once' if applied == distinct == args.events else 'NOT exactly once'}")


if __name__ == "__main__":
    main()
