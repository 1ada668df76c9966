"""`letsconnect status`: one look at the running platform for an operator.

Each service's API health and readiness, its consumer group's lag per topic and partition (from
the broker: committed offsets against the partitions' ends, so a stopped worker's lag shows),
its outbox backlog and oldest pending write, the notifier's parked messages, and every
dead-letter topic's count with the newest reasons. Each part is gathered on its own, so a part
that cannot be reached is reported as such and the rest is still shown.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

import requests

from shared.config import SERVICES, Settings
from shared.events import TOPICS, dlq_of

NEWEST_REASONS = 3


@dataclass(frozen=True)
class ServiceHealth:
    service: str
    healthy: bool
    ready: bool
    checks: dict = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class PartitionLag:
    service: str
    topic: str
    partition: int
    committed: int | None   # None: the group never committed on this partition (it starts at the beginning)
    end: int
    lag: int


@dataclass(frozen=True)
class OutboxState:
    service: str
    backlog: int | None
    oldest: str | None       # ISO time of the oldest pending write
    error: str | None = None


@dataclass(frozen=True)
class DeadLetters:
    topic: str
    count: int
    newest: list = field(default_factory=list)   # [{"failed_at", "consumer_group", "error"}], newest first


@dataclass
class Status:
    services: list[ServiceHealth]
    lag: list[PartitionLag]
    outboxes: list[OutboxState]
    parked: int | None
    dead_letters: list[DeadLetters]
    problems: list[str] = field(default_factory=list)   # parts that could not be gathered

    def as_json(self) -> dict:
        return asdict(self)

    @property
    def total_lag(self) -> dict[str, int]:
        totals = {service: 0 for service in SERVICES}
        for row in self.lag:
            totals[row.service] = totals.get(row.service, 0) + row.lag
        return totals


# ---------------------------------------------------------------------------- pure rules


def lag_rows(service: str, committed: dict[tuple[str, int], int | None], beginning: dict[tuple[str, int], int],
             end: dict[tuple[str, int], int]) -> list[PartitionLag]:
    """Lag of each partition: its end minus the group's committed offset, or minus its beginning
    where the group never committed (the consumer starts from the earliest record)."""
    rows = []
    for (topic, partition), last in sorted(end.items()):
        start = committed.get((topic, partition))
        consumed_to = start if start is not None and start >= 0 else beginning.get((topic, partition), 0)
        rows.append(PartitionLag(service, topic, partition, start if start is not None and start >= 0 else None,
                                 last, max(0, last - consumed_to)))
    return rows


def newest_reasons(parked: list[dict], limit: int = NEWEST_REASONS) -> list[dict]:
    """The newest parked records' reasons (by failed_at), for the dead-letter summary."""
    ordered = sorted(parked, key=lambda record: str(record.get("failed_at") or ""), reverse=True)
    return [{"failed_at": record.get("failed_at"), "consumer_group": record.get("consumer_group"),
             "error": str(record.get("error") or "")[:300]} for record in ordered[:limit]]


def unprefixed(settings: Settings, topic: str) -> str:
    return topic[len(settings.topic_prefix):] if settings.topic_prefix and topic.startswith(settings.topic_prefix) \
        else topic


def render(status: Status, now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    lines = ["services (API):"]
    for health in status.services:
        if health.error:
            state = f"DOWN ({health.error})"
        else:
            failing = ", ".join(f"{name} {value}" for name, value in health.checks.items() if value != "ok")
            state = "healthy, ready" if health.ready else f"healthy, NOT READY ({failing or 'see /readyz'})"
        lines.append(f"  {health.service:<10} {state}")

    lines.append("consumer lag (events not yet applied):")
    totals = status.total_lag
    for service in SERVICES:
        rows = [row for row in status.lag if row.service == service]
        lagging = [row for row in rows if row.lag > 0]
        topics = len({row.topic for row in rows})
        lines.append(f"  {service:<10} {totals.get(service, 0):>6} behind  ({len(rows)} partitions of {topics} topics)")
        for row in lagging:
            committed = "none" if row.committed is None else str(row.committed)
            lines.append(f"    {row.topic:<34} partition {row.partition}: {row.lag} behind "
                         f"(committed {committed}, end {row.end})")

    lines.append("outbox (writes whose events are not yet published):")
    for outbox in status.outboxes:
        if outbox.error:
            lines.append(f"  {outbox.service:<10} unavailable ({outbox.error})")
            continue
        oldest = ""
        if outbox.oldest:
            age = (now - datetime.fromisoformat(outbox.oldest)).total_seconds()
            oldest = f", oldest {outbox.oldest} ({age:.0f} s ago)"
        lines.append(f"  {outbox.service:<10} {outbox.backlog} pending{oldest}")

    lines.append("notifier: " + ("parked messages unknown (its API is not answering)" if status.parked is None
                                 else f"{status.parked} parked message(s) waiting for a contact"))

    parked_topics = [letters for letters in status.dead_letters if letters.count]
    lines.append(f"dead letters: {sum(letters.count for letters in parked_topics)} in "
                 f"{len(parked_topics)} of {len(status.dead_letters)} .dlq topics")
    for letters in parked_topics:
        lines.append(f"  {letters.topic:<38} {letters.count}")
        for reason in letters.newest:
            lines.append(f"    {reason['failed_at']}  {reason['consumer_group']}: {reason['error']}")
    if status.problems:
        lines.append("could not gather:")
        lines.extend(f"  {problem}" for problem in status.problems)
    return "\n".join(lines)


# ---------------------------------------------------------------------------- gathering


def service_health(settings: Settings) -> list[ServiceHealth]:
    from letsconnect.client import Platform

    found = []
    for service, url in Platform.from_settings(settings).urls.items():
        try:
            healthy = requests.get(url + "/healthz", timeout=2).status_code == 200
            ready = requests.get(url + "/readyz", timeout=3)
            checks = ready.json().get("checks", {}) if ready.headers.get("content-type", "").startswith(
                "application/json") else {}
            found.append(ServiceHealth(service, healthy, ready.status_code == 200, checks))
        except requests.RequestException as exc:
            found.append(ServiceHealth(service, False, False, {}, type(exc).__name__))
    return found


def consumer_lag(settings: Settings) -> list[PartitionLag]:
    """Every service group's lag on every partition of every topic it has committed on."""
    from kafka import KafkaAdminClient, KafkaConsumer

    from shared.bus import log_end_offsets, topic_partitions

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="letsconnect-status")
    try:
        committed = {service: admin.list_group_offsets({settings.consumer_group(service): None})
                     .get(settings.consumer_group(service), {}) for service in SERVICES}
    finally:
        admin.close()
    topics = sorted({tp.topic for offsets in committed.values() for tp in offsets})
    partitions = topic_partitions(settings, topics)
    end = log_end_offsets(settings, partitions)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        beginning = consumer.beginning_offsets(partitions) if partitions else {}
    finally:
        consumer.close()
    rows = []
    for service, offsets in committed.items():
        mine = {tp.topic for tp in offsets}
        key = lambda tp: (unprefixed(settings, tp.topic), tp.partition)  # noqa: E731
        rows += lag_rows(service, {key(tp): meta.offset for tp, meta in offsets.items()},
                         {key(tp): offset for tp, offset in beginning.items() if tp.topic in mine},
                         {key(tp): offset for tp, offset in end.items() if tp.topic in mine})
    return rows


def outboxes(settings: Settings) -> list[OutboxState]:
    from shared.mongo import database
    from shared.outbox import Outbox

    found = []
    for service in SERVICES:
        try:
            outbox = Outbox(database(settings, service), service)
            oldest = outbox.oldest_pending()
            found.append(OutboxState(service, outbox.backlog(), oldest.isoformat() if oldest else None))
        except Exception as exc:  # one unreachable database must not hide the others
            found.append(OutboxState(service, None, None, f"{type(exc).__name__}: {exc}"[:200]))
    return found


def parked_messages(settings: Settings) -> int | None:
    from letsconnect.client import ApiError, Platform

    try:
        return int(Platform.from_settings(settings).stats("notifier").get("parked", 0))
    except (ApiError, requests.RequestException, ValueError):
        return None


def dead_letters(settings: Settings) -> list[DeadLetters]:
    from kafka import KafkaConsumer

    from shared.bus import log_end_offsets, read_topic, topic_partitions

    topics = [settings.topic_name(dlq_of(topic)) for topic in TOPICS]
    partitions = topic_partitions(settings, topics)
    end = log_end_offsets(settings, partitions)
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap)
    try:
        beginning = consumer.beginning_offsets(partitions) if partitions else {}
    finally:
        consumer.close()
    found = []
    for topic in topics:
        mine = [tp for tp in partitions if tp.topic == topic]
        count = sum(max(0, end[tp] - beginning.get(tp, 0)) for tp in mine)
        newest = []
        if count:
            tail = {tp: max(beginning.get(tp, 0), end[tp] - NEWEST_REASONS) for tp in mine if end[tp]}
            records = read_topic(settings, topic, timeout=5, partitions=list(tail), start=tail,
                                 expected=sum(end[tp] - offset for tp, offset in tail.items()))
            newest = newest_reasons([_parked(record.value) for record in records])
        found.append(DeadLetters(unprefixed(settings, topic), count, newest))
    return found


def _parked(value: bytes) -> dict:
    try:
        parked = json.loads(value)
        return parked if isinstance(parked, dict) else {"error": "not a parked record"}
    except (ValueError, UnicodeDecodeError):
        return {"error": "not a parked record"}


def gather(settings: Settings) -> Status:
    problems: list[str] = []

    def attempt(name, gatherer, fallback):
        try:
            return gatherer(settings)
        except Exception as exc:  # report what could not be gathered, show the rest
            problems.append(f"{name}: {type(exc).__name__}: {exc}"[:300])
            return fallback

    return Status(services=attempt("service health", service_health, []),
                  lag=attempt("consumer lag (Kafka)", consumer_lag, []),
                  outboxes=attempt("outboxes (MongoDB)", outboxes, []),
                  parked=attempt("notifier parked messages", parked_messages, None),
                  dead_letters=attempt("dead letters (Kafka)", dead_letters, []),
                  problems=problems)


def run(settings: Settings, as_json: bool = False) -> int:
    status = gather(settings)
    print(json.dumps(status.as_json(), indent=2, ensure_ascii=False) if as_json else render(status))
    return 0
