"""Prometheus metrics shared by every API and worker (multiprocess-aware under gunicorn).

Every series is documented in docs/operations.md; deploy/alerts.yml and the Grafana dashboard
use them, and a unit test keeps the three in step with this module.
"""
import os
from datetime import datetime, timezone

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

# From a few milliseconds (a hop on a quiet machine) to minutes (a consumer that was down).
AGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10,
               20, 30, 60, 120, 300, 900)

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
OUTBOX_OLDEST_AGE = Gauge("lc_outbox_oldest_age_seconds", "Age of the oldest outbox write not yet published",
                          ["service"], multiprocess_mode="max")
EVENT_AGE = Histogram("lc_event_age_seconds",
                      "Age of an event (now minus its CloudEvents time) when a consumer has applied it",
                      ["service", "topic"], buckets=AGE_BUCKETS)
OUTBOX_AGE = Histogram("lc_outbox_age_seconds",
                       "Age of an outbox event (now minus its time) when the broker acknowledged its publish",
                       ["service"], buckets=AGE_BUCKETS)
CONSUMER_LAG = Gauge("lc_consumer_lag", "Events on a partition the service's consumer has not yet applied",
                     ["service", "topic", "partition"], multiprocess_mode="max")
CONSUMER_REBALANCES = Counter("lc_consumer_rebalances_total",
                              "Partition assignments a worker's consumer received (each follows a pause of the group)",
                              ["service"])
NOTIFIER_QUEUE_AGE = Histogram("lc_notifier_queue_age_seconds",
                               "From the event behind a message to its acceptance by the SMTP relay",
                               ["template"], buckets=AGE_BUCKETS)
SMTP_ATTEMPTS = Counter("lc_notifier_smtp_attempts_total", "SMTP sends by outcome (sent, transient, permanent)",
                        ["outcome"])


def age_seconds(event_time: str | datetime, now: datetime | None = None) -> float:
    """Seconds since an event's CloudEvents `time` (ISO 8601, or a datetime); never negative, so a
    producer's clock slightly ahead does not break a histogram."""
    moment = event_time if isinstance(event_time, datetime) else datetime.fromisoformat(event_time)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, ((now or datetime.now(timezone.utc)) - moment).total_seconds())


def observe_age(histogram, event_time, *labels) -> None:
    """Observe an event's age; a malformed time is the event's problem, not the consumer's."""
    try:
        histogram.labels(*labels).observe(age_seconds(event_time))
    except (TypeError, ValueError):
        pass


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
