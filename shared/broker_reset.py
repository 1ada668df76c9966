"""Noticing that the broker lost its logs: the embedded Tansu keeps topics in memory, so a restart
brings it back empty (and `letsconnect up` starts it with a new cluster id each time); a Kafka whose
data volume was lost comes back with a new cluster id too.

A relay compares what the broker says now with what it recorded when it published (the cluster id,
and per partition the first offset acknowledged for its latest write); a worker compares the
cluster id with the one it started against.
"""
from __future__ import annotations

import logging
from typing import Iterable, Mapping

from kafka import KafkaAdminClient, KafkaConsumer
from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from shared.bus import described_partitions
from shared.config import Settings

log = logging.getLogger(__name__)

Partition = tuple[str, int]


def partition_key(topic: str, partition: int) -> str:
    """How an acknowledged partition is stored in MongoDB (a field name: no dots)."""
    return f"{topic}:{partition}"


def parse_partition_key(key: str) -> Partition:
    topic, _, partition = key.rpartition(":")
    return topic, int(partition)


def lost_records(known_cluster: str | None, observed_cluster: str, acked: Mapping[Partition, int],
                 ends: Mapping[Partition, int] | None) -> str | None:
    """Why the broker no longer holds what was published to it, or None when it does.

    `acked`: per partition, an offset the broker acknowledged (the first of the latest write);
    `ends`: the partitions' end offsets now (a partition missing from `ends` no longer exists;
    None: not asked)."""
    if known_cluster is not None and observed_cluster != known_cluster:
        return f"the cluster id changed from {known_cluster} to {observed_cluster}"
    if ends is None:
        return None
    for (topic, partition), offset in sorted(acked.items()):
        end = ends.get((topic, partition))
        if end is None:
            return f"{topic} partition {partition} is gone"
        if end <= offset:
            return f"{topic} partition {partition} ends at offset {end}, below the acknowledged {offset}"
    return None


class BrokerProbe:
    """Asks the broker who it is and where its partitions end, without joining a consumer group.
    Every answer is None while the broker is unreachable; clients are made again after a failure."""

    def __init__(self, settings: Settings, client_id: str = "letsconnect-probe"):
        self.settings = settings
        self.client_id = client_id
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    def _admin_client(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap,
                                           client_id=self.client_id, request_timeout_ms=5000)
        return self._admin

    def cluster_id(self) -> str | None:
        try:
            return self._admin_client().describe_cluster().get("cluster_id")
        except (KafkaError, OSError, ValueError) as exc:
            log.info("broker probe: no cluster id (%s)", exc)
            self.close()
            return None

    def end_offsets(self, partitions: Iterable[Partition]) -> dict[Partition, int] | None:
        wanted = sorted(set(partitions))
        if not wanted:
            return {}
        try:
            if self._consumer is None:
                self._consumer = KafkaConsumer(bootstrap_servers=self.settings.kafka_bootstrap,
                                               client_id=self.client_id, enable_auto_commit=False,
                                               request_timeout_ms=10000)
            # the partitions as the broker has them now, asked for by name (not from the consumer's
            # metadata cache, which asks for every topic of the broker and then goes stale)
            have = set(described_partitions(self._admin_client(), sorted({topic for topic, _ in wanted})))
            existing = [TopicPartition(t, p) for t, p in wanted if (t, p) in have]
            if not existing:
                return {}
            ends = self._consumer.end_offsets(existing, timeout_ms=10000)
            return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
        except (KafkaError, OSError, ValueError) as exc:
            log.info("broker probe: no end offsets (%s)", exc)
            self.close()
            return None

    def close(self) -> None:
        for client in (self._admin, self._consumer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # closing a client of a broker that is gone
                    pass
        self._admin = self._consumer = None
