"""Prometheus metrics shared by every API and worker (multiprocess-aware under gunicorn)."""
import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

REQUESTS = Counter("lc_http_requests_total", "HTTP requests", ["service", "method", "route", "status"])
LATENCY = Histogram("lc_http_request_seconds", "HTTP request latency", ["service", "method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
EVENTS_CONSUMED = Counter("lc_events_consumed_total", "Events applied by consumers", ["service", "type"])
EVENTS_DUPLICATE = Counter("lc_events_duplicate_total", "Redelivered events skipped", ["service", "type"])
EVENTS_PUBLISHED = Counter("lc_events_published_total", "Events published by the outbox relay",
                           ["service", "type"])
EVENTS_DEAD_LETTERED = Counter("lc_events_dead_lettered_total", "Events parked on a .dlq topic",
                               ["service", "topic"])
HANDLER_RETRIES = Counter("lc_handler_retries_total", "Handler retries after a failure", ["service", "type"])
OUTBOX_BACKLOG = Gauge("lc_outbox_backlog", "Outbox events not yet published", ["service"],
                       multiprocess_mode="max")


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
