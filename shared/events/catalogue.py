"""The topic catalogue: one topic per event type (plus its `.dlq` twin) and who produces it."""
from __future__ import annotations

from dataclasses import dataclass

from shared.events import matcher, notifier, registry, resources, scheduler

DLQ_SUFFIX = ".dlq"


@dataclass(frozen=True)
class EventType:
    name: str
    version: int
    schema: type
    key_field: str
    producer: str


EVENT_TYPES: dict[str, EventType] = {}
for _producer, _module in (("registry", registry), ("matcher", matcher), ("scheduler", scheduler),
                           ("notifier", notifier), ("resources", resources)):
    for _name, (_version, _schema, _key) in _module.EVENTS.items():
        EVENT_TYPES[_name] = EventType(_name, _version, _schema, _key, _producer)

TOPICS: tuple[str, ...] = tuple(EVENT_TYPES)
DLQ_TOPICS: tuple[str, ...] = tuple(t + DLQ_SUFFIX for t in TOPICS)
ALL_TOPICS: tuple[str, ...] = TOPICS + DLQ_TOPICS
REGISTRY_EVENTS = tuple(registry.EVENTS)


def dlq_of(topic: str) -> str:
    return topic + DLQ_SUFFIX
