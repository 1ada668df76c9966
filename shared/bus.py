"""Kafka producer and consumer runner (kafka-python, always over TCP).

The runner commits an offset only after the handler's effect is stored; a handler that keeps
failing is retried with bounded exponential backoff, then the event is parked on `<topic>.dlq`
with the reason, and the partition moves on.
"""
from __future__ import annotations

import json
import logging
import random
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable

from kafka import ConsumerRebalanceListener, KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from pymongo.errors import ConnectionFailure

from shared import metrics
from shared.config import Settings
from shared.events import ALL_TOPICS, EventInvalid, dlq_of, encode, parse_event, utcnow_iso
from shared.inbox import apply_together, shares_one_inbox

log = logging.getLogger(__name__)


class PermanentError(Exception):
    """Raised by a handler for an event that can never succeed: parked at once, no retries."""


TOPIC_ALREADY_EXISTS = 36  # the CreateTopics error code of a topic that is there already


def new_topics(settings: Settings, names: Iterable[str]) -> list[NewTopic]:
    """The topics, with the configured partitions and retention."""
    retention = {"retention.ms": str(settings.topic_retention_hours * 3600 * 1000)}
    return [NewTopic(settings.topic_name(n), settings.partitions, 1, topic_configs=retention) for n in names]


def refused_topics(response: dict) -> list[str]:
    """The topics a CreateTopics response refused for another reason than being there already."""
    return [f"{topic['name']}: {topic.get('error_message') or topic['error_code']}" for topic in response["topics"]
            if topic["error_code"] not in (0, TOPIC_ALREADY_EXISTS)]


def ensure_topics(settings: Settings, names: Iterable[str] = ALL_TOPICS) -> None:
    """Create the topics that are missing; existing ones are left as they are (change their
    retention with kafka-configs). Asked for by name, without listing the broker's topics first:
    a listing grows with every topic the broker holds (seconds with thousands)."""
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="letsconnect-admin")
    try:
        refused = refused_topics(admin.create_topics(new_topics(settings, names), raise_errors=False))
    finally:
        admin.close()
    if refused:
        raise KafkaError(f"the broker refused to create {', '.join(refused)}")


class Publisher:
    def __init__(self, settings: Settings, client_id: str):
        self.settings = settings
        self.client_id = client_id
        self.producer = self._new_producer()

    def _new_producer(self) -> KafkaProducer:
        return KafkaProducer(
            bootstrap_servers=self.settings.kafka_bootstrap, client_id=self.client_id, acks="all",
            enable_idempotence=True, linger_ms=2, retries=10,
        )

    def renew(self) -> None:
        """A new producer: after a broker restarted empty, the idempotent producer's id is unknown
        to it and the old producer stays failed."""
        old, self.producer = self.producer, self._new_producer()
        try:
            old.close(timeout=0)
        except Exception:  # closing a producer of a broker that is gone
            pass

    def send(self, envelope: dict):
        """Asynchronous publish keyed by subject; the returned future raises if the broker refused."""
        return self.producer.send(self.settings.topic_name(envelope["type"]),
                                  key=envelope["subject"].encode("utf-8"), value=encode(envelope))

    def publish(self, envelope: dict, timeout: float = 30) -> None:
        self.send(envelope).get(timeout=timeout)

    def send_raw(self, topic: str, key: bytes | None, value: bytes, headers=None):
        return self.producer.send(topic, key=key, value=value, headers=headers or [])

    def flush(self) -> None:
        self.producer.flush()

    def close(self) -> None:
        self.producer.close(timeout=5)


Handler = Callable[[dict], None]


@dataclass
class DeadLetter:
    topic: str
    error: str
    attempts: int


class _CountRebalances(ConsumerRebalanceListener):
    """Every rebalance stops the group's consumption for seconds: counted, and logged."""

    def __init__(self, service: str, on_assigned: Callable[[], None] = lambda: None):
        self.service = service
        self.on_assigned = on_assigned

    def on_partitions_revoked(self, revoked):
        pass

    def on_partitions_assigned(self, assigned):
        self.on_assigned()
        metrics.CONSUMER_REBALANCES.labels(self.service).inc()
        log.info("%s: consumer group rebalanced; this copy now owns %d partitions", self.service, len(assigned))


def in_handler_order(batches: dict, topic_to_type: dict[str, str], handlers: dict) -> dict[str, list]:
    """A poll's records by event type, the types in the order the service lists its handlers
    rather than the order their partitions came in: a service lists first the events others refer
    to (a registration before the match that names the person), so a poll holding both applies
    them in that order and nothing waits for what came in the same poll."""
    by_type: dict[str, list] = {event_type: [] for event_type in handlers}
    for records in batches.values():
        for record in records:
            by_type[topic_to_type[record.topic]].append(record)
    return {event_type: records for event_type, records in by_type.items() if records}


class ConsumerRunner:
    """Consumes `handlers`' topics in the service's consumer group and applies each event."""

    LAG_REPORT_SECONDS = 1.0

    def __init__(self, settings: Settings, service: str, handlers: dict[str, Handler], publisher: Publisher,
                 max_poll_records: int = 200):
        self.settings = settings
        self.service = service
        self.handlers = handlers
        self.publisher = publisher
        self.topic_to_type = {settings.topic_name(t): t for t in handlers}
        self.assigned = threading.Event()
        self._stop = threading.Event()
        self._next_lag_report = 0.0
        self._lag_reported: dict[tuple[str, str], int] = {}
        # Each owned partition's next offset, as this copy consumed it: KafkaConsumer.position()
        # walks every assigned partition under the client's lock, so asking it for each of them
        # every second cost a notifier with a hundred partitions a tenth of its time.
        self._next_offsets: dict[TopicPartition, int] = {}
        self.consumer = KafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            group_id=settings.consumer_group(service),
            client_id=f"{service}-worker",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=settings.consumer_session_timeout_ms,
            heartbeat_interval_ms=max(500, settings.consumer_session_timeout_ms // 6),
            max_poll_records=max_poll_records,
            # fetch_min_bytes stays 1: Tansu holds a fetch below its minimum past fetch_max_wait_ms,
            # which left a quiet partition's events waiting for traffic that might never come.
            fetch_max_wait_ms=settings.consumer_fetch_wait_ms,
            fetch_min_bytes=1,
        )
        self.consumer.subscribe(list(self.topic_to_type), listener=_CountRebalances(service, self._next_offsets.clear))

    def run(self, stop: threading.Event) -> None:
        self._stop = stop
        try:
            while not stop.is_set():
                batches = self.consumer.poll(timeout_ms=200)
                if self.consumer.assignment():
                    self.assigned.set()
                self._report_lag()
                if not batches:
                    continue
                self._apply_poll(in_handler_order(batches, self.topic_to_type, self.handlers))
                consumed = {partition: records[-1].offset + 1 for partition, records in batches.items()}
                self.consumer.commit({partition: OffsetAndMetadata(offset, None, -1)
                                      for partition, offset in consumed.items()})
                self._next_offsets.update(consumed)
        except ConnectionFailure:
            if not stop.is_set():
                raise  # stopped during a database outage: nothing committed, redelivered later
        finally:
            self.consumer.close(autocommit=False)

    def _report_lag(self) -> None:
        """lc_consumer_lag per owned partition, from what the consumer already knows (the high
        watermark of its last fetch and its position): no extra broker round trip."""
        now = time.monotonic()
        if now < self._next_lag_report:
            return
        self._next_lag_report = now + self.LAG_REPORT_SECONDS
        owned = {}
        for partition in self.consumer.assignment():
            highwater = self.consumer.highwater(partition)
            if highwater is None:
                continue  # nothing fetched from it yet: its position may not be known either
            if partition not in self._next_offsets:  # nothing consumed from it since it was assigned
                position = self.consumer.position(partition)
                if position is None:
                    continue
                self._next_offsets[partition] = position
            key = (self.topic_to_type[partition.topic], str(partition.partition))
            owned[key] = max(0, highwater - self._next_offsets[partition])
        for key in self._lag_reported.keys() - owned.keys():  # moved to another copy of the worker
            metrics.CONSUMER_LAG.labels(self.service, *key).set(0)
        for key, lag in owned.items():
            metrics.CONSUMER_LAG.labels(self.service, *key).set(lag)
        self._lag_reported = owned

    def _apply_poll(self, by_type: dict[str, list]) -> None:
        """Apply one poll's events: of several types in one transaction when their handlers share
        one inbox (a registration's participant- and skill-registered), else type by type."""
        valid = {event_type: self._parsed(event_type, records) for event_type, records in by_type.items()}
        valid = {event_type: pairs for event_type, pairs in valid.items() if pairs}
        if len(valid) < 2 or not shares_one_inbox([self.handlers[t] for t in valid]):
            for event_type, pairs in valid.items():
                self._apply_valid(event_type, pairs)
            return
        try:
            apply_together([(self.handlers[t], [envelope for _, envelope in pairs]) for t, pairs in valid.items()])
        except Exception as exc:  # type by type, then one at a time, to isolate the culprit
            log.info("%s: a poll of %s failed together (%s); applying type by type", self.service,
                     ", ".join(valid), exc)
            for event_type, pairs in valid.items():
                self._apply_valid(event_type, pairs)
            return
        for event_type, pairs in valid.items():
            self._observe_applied(event_type, pairs)

    def _parsed(self, event_type: str, records) -> list[tuple]:
        """(record, envelope) for each well-formed record; the others are parked at once."""
        valid = []
        for record in records:
            try:
                valid.append((record, parse_event(record.value, expected_type=event_type)))
            except EventInvalid as exc:
                self._dead_letter(record, exc.reason, attempts=0)
        return valid

    def _apply_valid(self, event_type: str, valid: list[tuple]) -> None:
        """One poll's events of a type; in one transaction when the handler supports it."""
        if len(valid) == 1 or not hasattr(self.handlers[event_type], "apply_batch"):
            for record, _ in valid:
                self._process(record)
            return
        try:
            self.handlers[event_type].apply_batch([envelope for _, envelope in valid])
        except Exception as exc:  # isolate the culprit: one event at a time, with retries and the .dlq
            log.info("%s: batch of %d failed (%s); applying one by one", self.service, len(valid), exc)
            for record, _ in valid:
                self._process(record)
            return
        self._observe_applied(event_type, valid)

    def _observe_applied(self, event_type: str, valid: list[tuple]) -> None:
        metrics.EVENTS_CONSUMED.labels(self.service, event_type).inc(len(valid))
        for _, envelope in valid:
            metrics.observe_age(metrics.EVENT_AGE, envelope["time"], self.service, event_type)

    def _process(self, record) -> None:
        event_type = self.topic_to_type[record.topic]
        try:
            envelope = parse_event(record.value, expected_type=event_type)
        except EventInvalid as exc:
            self._dead_letter(record, exc.reason, attempts=0)
            return
        handler = self.handlers[event_type]
        delay = self.settings.retry_backoff_ms / 1000
        last_error = "unknown error"
        attempt = 0
        while attempt < self.settings.retry_attempts:
            attempt += 1
            try:
                handler(envelope)
                metrics.EVENTS_CONSUMED.labels(self.service, event_type).inc()
                metrics.observe_age(metrics.EVENT_AGE, envelope["time"], self.service, event_type)
                return
            except ConnectionFailure as exc:
                # The database is unreachable: not the event's fault. Wait without using up its
                # attempts and without committing, rather than parking every event of an outage.
                log.warning("%s: database unreachable (%s); waiting", self.service, exc)
                attempt -= 1
                if self._stop.wait(min(5.0, delay * 4)):
                    raise
                continue
            except (PermanentError, EventInvalid) as exc:
                self._dead_letter(record, f"{type(exc).__name__}: {exc}", attempts=attempt)
                return
            except Exception as exc:  # any other failure is retried, then parked
                last_error = f"{type(exc).__name__}: {exc}"
                log.warning("%s: %s %s failed (attempt %d): %s", self.service, event_type, envelope["id"],
                            attempt, last_error)
                if attempt < self.settings.retry_attempts:
                    metrics.HANDLER_RETRIES.labels(self.service, event_type).inc()
                    time.sleep(delay * (1 + random.random() / 2))
                    delay *= 2
        self._dead_letter(record, last_error, attempts=self.settings.retry_attempts)

    def _dead_letter(self, record, error: str, attempts: int) -> None:
        try:
            original = record.value.decode("utf-8")
        except (UnicodeDecodeError, AttributeError):
            original = repr(record.value)
        parked = {
            "error": error, "attempts": attempts, "consumer_group": self.settings.consumer_group(self.service),
            "topic": record.topic, "partition": record.partition, "offset": record.offset,
            "failed_at": utcnow_iso(), "event": original,
        }
        dlq_topic = dlq_of(record.topic)
        # Wait for the broker's ack: the offset is committed next, so the event must be safe first.
        self.publisher.send_raw(dlq_topic, record.key, json.dumps(parked, ensure_ascii=False).encode("utf-8"),
                                headers=[("error", error[:500].encode("utf-8"))]).get(timeout=30)
        metrics.EVENTS_DEAD_LETTERED.labels(self.service, record.topic).inc()
        log.error("%s: parked %s@%d on %s: %s", self.service, record.topic, record.offset, dlq_topic, error)


def log_end_offsets(settings: Settings, partitions: list[TopicPartition], timeout: float = 5.0) -> dict:
    """The offset after each partition's last record, from the high watermark a fetch reports.

    ListOffsets(latest), which KafkaConsumer.end_offsets sends, is right on Kafka, but Tansu
    answers it with the base offset of the partition's last record batch plus one: short of the
    end whenever that batch holds several records. Fetching from there returns the rest, and the
    true high watermark with it; on Kafka the fetch is empty and only confirms the answer."""
    if not partitions:
        return {}
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                             fetch_max_wait_ms=50, max_partition_fetch_bytes=64 * 1024)
    try:
        consumer.assign(partitions)
        listed = consumer.end_offsets(partitions)
        for partition in partitions:
            consumer.seek(partition, listed[partition])
        ends: dict = {}
        deadline = time.time() + timeout
        while len(ends) < len(partitions) and time.time() < deadline:
            consumer.poll(timeout_ms=100)  # the records themselves are not needed, only the watermarks
            for partition in partitions:
                highwater = consumer.highwater(partition)
                if highwater is not None:
                    ends[partition] = highwater
        return {partition: ends.get(partition, listed[partition]) for partition in partitions}
    finally:
        consumer.close()


def topic_partitions(settings: Settings, topics: Iterable[str]) -> list[TopicPartition]:
    """Each topic's partitions (none for a topic that does not exist), from a metadata request
    naming them: KafkaConsumer.partitions_for_topic asks for every topic of the broker."""
    names = list(topics)
    if not names:
        return []
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="letsconnect-metadata")
    try:
        return described_partitions(admin, names)
    finally:
        admin.close()


def described_partitions(admin: KafkaAdminClient, topics: list[str]) -> list[TopicPartition]:
    """The partitions of these topics as the broker has them now, topic by topic in the order
    given (none for a topic that does not exist), from one metadata request naming them."""
    described = {topic["name"]: topic for topic in admin.describe_topics(topics)}
    return [TopicPartition(topic, p) for topic in topics if described.get(topic, {}).get("error_code") == 0
            for p in sorted(partition["partition_index"] for partition in described[topic]["partitions"])]


def read_topic(settings: Settings, topic: str, timeout: float = 10.0, expected: int | None = None,
               partitions: list[TopicPartition] | None = None, start: dict | None = None) -> list:
    """Read every record of a topic from the start (for tests, benchmarks and operators), or of
    some of its partitions from given offsets."""
    partitions = partitions if partitions is not None else topic_partitions(settings, [topic])
    end = log_end_offsets(settings, partitions) if expected is None else {}
    consumer = KafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=500)
    try:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        for partition, offset in (start or {}).items():
            consumer.seek(partition, offset)
        records, deadline = [], time.time() + timeout
        while time.time() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            if expected is not None:
                if len(records) >= expected:
                    break
            elif all(consumer.position(p) >= end[p] for p in partitions):
                break
        return records
    finally:
        consumer.close()
