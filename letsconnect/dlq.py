"""`letsconnect dlq list TOPIC` and `letsconnect dlq replay TOPIC [--id ID | --all]`.

A consumer parks an event it cannot apply on `<topic>.dlq` as JSON with the reason (shared.bus).
After the cause is fixed, replay sends the original event, byte for byte and with its key, back
to its topic. Every consumer group of that topic sees it again; those that applied it before find
its id in their inbox and change nothing, so a replay is safe to repeat. Each replay is recorded
(which record, when, by whom; never the event's content) in the operations database, and
`dlq list` shows it.
"""
from __future__ import annotations

import getpass
import json
import socket
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

from shared.config import Settings
from shared.events import TOPICS, dlq_of
from shared.events.catalogue import DLQ_SUFFIX

OPERATIONS = "operations"   # the tooling's own database (no service reads it)


class DlqError(RuntimeError):
    """A problem the operator can fix (unknown topic, unknown id); printed, not a traceback."""


@dataclass(frozen=True)
class ParkedEvent:
    dlq_topic: str
    partition: int
    offset: int
    key: str | None
    topic: str | None             # the topic the event was consumed from
    error: str
    attempts: int | None
    consumer_group: str | None
    failed_at: str | None
    event_id: str | None
    event_type: str | None
    subject: str | None
    event: str | None             # the original record's text, as it was consumed

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def replayable(self) -> bool:
        return self.event_id is not None and self.topic is not None


def event_topic(name: str) -> str:
    """`participant-withdrawn` or `participant-withdrawn.dlq` -> `participant-withdrawn`."""
    topic = name[:-len(DLQ_SUFFIX)] if name.endswith(DLQ_SUFFIX) else name
    if topic not in TOPICS:
        raise DlqError(f"unknown topic {name!r}; one of: {', '.join(TOPICS)}")
    return topic


def parse_parked(dlq_topic: str, partition: int, offset: int, key: bytes | None, value: bytes) -> ParkedEvent:
    """One .dlq record as the consumer runner wrote it; anything else is shown, never replayed."""
    try:
        parked = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        parked = None
    if not isinstance(parked, dict):
        return ParkedEvent(dlq_topic, partition, offset, _text(key), None, "not a parked record", None, None, None,
                           None, None, None, None)
    original = parked.get("event")
    envelope = None
    if isinstance(original, str):
        try:
            envelope = json.loads(original)
        except ValueError:
            envelope = None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("id"), str):
        envelope = {}
    return ParkedEvent(
        dlq_topic=dlq_topic, partition=partition, offset=offset, key=_text(key), topic=parked.get("topic"),
        error=str(parked.get("error") or ""), attempts=parked.get("attempts"),
        consumer_group=parked.get("consumer_group"), failed_at=parked.get("failed_at"),
        event_id=envelope.get("id"), event_type=envelope.get("type"), subject=envelope.get("subject"),
        event=original if envelope else None)


def _text(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8", errors="replace")


def choose(parked: list[ParkedEvent], ident: str | None, replay_all: bool,
           replayed: dict[str, list]) -> list[ParkedEvent]:
    """The records a replay sends: one by event id (its newest parking) or by `partition:offset`;
    or, with --all, every replayable record not replayed before."""
    if replay_all:
        return [event for event in parked if event.replayable and not replayed.get(event.position)]
    if not ident:
        raise DlqError("say which: --id EVENT_ID (or PARTITION:OFFSET), or --all")
    matching = [event for event in parked if ident in (event.event_id, event.position)]
    if not matching:
        raise DlqError(f"no parked event {ident!r} on this topic")
    newest = max(matching, key=lambda event: (str(event.failed_at or ""), event.partition, event.offset))
    if not newest.replayable:
        raise DlqError(f"{ident} is not an event that can be replayed: {newest.error}")
    return [newest]


class ReplayLog:
    """Which parked record was replayed, when and by whom (no event content: it may be personal)."""

    def __init__(self, settings: Settings):
        from shared.mongo import database

        self.collection = database(settings, OPERATIONS)["dlq_replays"]

    def record(self, event: ParkedEvent, by: str) -> dict:
        entry = {"_id": uuid.uuid4().hex, "dlq_topic": event.dlq_topic, "partition": event.partition,
                 "offset": event.offset, "position": event.position, "event_id": event.event_id,
                 "topic": event.topic, "consumer_group": event.consumer_group, "by": by,
                 "replayed_at": datetime.now(timezone.utc)}
        self.collection.insert_one(entry)
        return entry

    def history(self, dlq_topic: str) -> dict[str, list]:
        found: dict[str, list] = {}
        for entry in self.collection.find({"dlq_topic": dlq_topic}).sort("replayed_at", 1):
            found.setdefault(entry["position"], []).append(entry)
        return found


def operator() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def list_parked(settings: Settings, topic: str) -> list[ParkedEvent]:
    from shared.bus import read_topic

    dlq_topic = settings.topic_name(dlq_of(event_topic(topic)))
    records = read_topic(settings, dlq_topic, timeout=15)
    return sorted((parse_parked(dlq_topic, r.partition, r.offset, r.key, r.value) for r in records),
                  key=lambda event: (str(event.failed_at or ""), event.partition, event.offset))


def replay(settings: Settings, topic: str, ident: str | None = None, replay_all: bool = False,
           by: str | None = None) -> list[tuple[ParkedEvent, dict]]:
    from shared.bus import Publisher

    expected = settings.topic_name(event_topic(topic))
    parked = list_parked(settings, topic)
    log = ReplayLog(settings)
    chosen = choose(parked, ident, replay_all, log.history(settings.topic_name(dlq_of(event_topic(topic)))))
    for event in chosen:
        if event.topic != expected:  # a parked record only ever goes back where it came from
            raise DlqError(f"{event.position} was consumed from {event.topic!r}, not {expected!r}; not replayed")
    done = []
    if not chosen:
        return done
    publisher = Publisher(settings, "letsconnect-dlq")
    try:
        for event in chosen:
            headers = [("replayed-from", f"{event.dlq_topic}:{event.position}".encode("utf-8"))]
            publisher.send_raw(expected, event.key.encode("utf-8") if event.key is not None else None,
                               event.event.encode("utf-8"), headers=headers).get(timeout=30)
            done.append((event, log.record(event, by or operator())))
    finally:
        publisher.close()
    return done


def render_list(parked: list[ParkedEvent], history: dict[str, list], show_events: bool = False) -> str:
    if not parked:
        return "nothing parked"
    lines = [f"{len(parked)} parked on {parked[0].dlq_topic}:"]
    for event in parked:
        what = f"event {event.event_id} ({event.event_type}, subject {event.subject})" if event.replayable \
            else "not replayable"
        lines.append(f"  {event.position:<8} {event.failed_at}  {what}  group {event.consumer_group}, "
                     f"{event.attempts} attempt(s)")
        lines.append(f"           error: {event.error}")
        replays = history.get(event.position) or []
        if replays:
            last = replays[-1]
            lines.append(f"           replayed {len(replays)} time(s), last {last['replayed_at'].isoformat()} "
                         f"by {last['by']}")
        if show_events and event.event:
            lines.append(f"           event: {event.event}")
    return "\n".join(lines)


def run_list(settings: Settings, topic: str, as_json: bool = False, show_events: bool = False) -> int:
    parked = list_parked(settings, topic)
    history = ReplayLog(settings).history(settings.topic_name(dlq_of(event_topic(topic))))
    if as_json:
        items = []
        for event in parked:
            item = {**asdict(event), "position": event.position, "replays": [
                {"replayed_at": entry["replayed_at"].isoformat(), "by": entry["by"]}
                for entry in history.get(event.position, [])]}
            if not show_events:
                item.pop("event")
            items.append(item)
        print(json.dumps({"items": items}, indent=2, ensure_ascii=False))
    else:
        print(render_list(parked, history, show_events))
    return 0


def run_replay(settings: Settings, topic: str, ident: str | None, replay_all: bool) -> int:
    done = replay(settings, topic, ident, replay_all)
    if not done:
        print("nothing to replay (every parked event was replayed before; use --id to replay one again)")
    for event, entry in done:
        print(f"replayed {event.position} event {event.event_id} to {event.topic} "
              f"(recorded {entry['_id']} at {entry['replayed_at'].isoformat()})")
    return 0

