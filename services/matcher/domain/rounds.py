"""Rounds run by the workers (pure parts): the stored plan, its fingerprint, and the schedule.

A round is planned once and its plan stored (one entry per connection, with the match id it will
have), then written batch by batch, each batch in one transaction that also marks its entries
written. So a worker that dies mid-round leaves whole batches only, and the next lease holder
writes the entries still open: no proposal twice, none lost.
"""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

from croniter import croniter

from shared.clock import as_utc, iso

from services.matcher.domain.candidates import Edge

LEARNER_FIELDS = ("participant_id", "topic", "direction", "languages", "timezone", "region", "group",
                  "share_contact", "registered_at")
FINAL = ("completed", "failed", "preview", "stale")  # a round in these states holds no lock


def match_id(round_id: str, index: int) -> str:
    """The id a planned connection's proposal gets: the same whoever writes it."""
    return uuid.uuid5(uuid.UUID(hex=round_id), str(index)).hex


def plan_entries(round_id: str, connections: list[dict], batch: int) -> list[dict]:
    """The plan as stored: one entry per connection (a new one, or learners joining an open one)."""
    entries = []
    for index, connection in enumerate(connections):
        sharer = connection["sharer"]
        entries.append({
            "_id": f"{round_id}:{index:06d}", "round_id": round_id, "index": index, "batch": index // batch,
            "kind": "join" if connection.get("join") else "new",
            "match_id": connection.get("join") or match_id(round_id, index),
            "sharer": {k: sharer.get(k) for k in LEARNER_FIELDS}, "language": connection["language"],
            "learners": [{**{k: e.learner.get(k) for k in LEARNER_FIELDS}, "score": e.score, "reasons": e.reasons,
                          "codes": e.codes} for e in connection["learners"]],
            "done": False})
    return entries


def connection_of(entry: dict) -> dict:
    """A stored entry as the connection the proposal writer takes."""
    edges = []
    for learner in entry["learners"]:
        edge = Edge({k: learner.get(k) for k in LEARNER_FIELDS}, entry["sharer"], learner["score"], entry["language"])
        edge.reasons, edge.codes = list(learner["reasons"]), list(learner["codes"])
        edges.append(edge)
    return {"sharer": entry["sharer"], "learners": edges, "language": entry["language"], "match_id": entry["match_id"],
            "join": entry["match_id"] if entry["kind"] == "join" else None}


def preview(entries: list[dict]) -> list[dict]:
    """What a dry run would propose, as GET /rounds/{id} shows it."""
    return [{"sharer": e["sharer"]["participant_id"], "language": e["language"],
             "learners": [learner["participant_id"] for learner in e["learners"]],
             "topic": e["sharer"].get("topic"),
             "reasons": {learner["participant_id"]: list(learner.get("reasons") or []) for learner in e["learners"]},
             "joins": e["match_id"] if e["kind"] == "join" else None} for e in entries]


def fingerprint(state: dict[str, list]) -> str:
    """A digest of everything a plan depends on (interests, loads, blocks, cooldowns, claims, open
    connections): a preview can be committed only while it is unchanged."""
    def plain(value):
        return iso(value) if isinstance(value, datetime) else value

    canonical = {name: sorted(json.dumps([plain(v) for v in row], sort_keys=True, default=str) for row in rows)
                 for name, rows in sorted(state.items())}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode("utf-8")).hexdigest()


def valid_schedule(expression: str) -> bool:
    return not expression or croniter.is_valid(expression)


def due_time(expression: str, now: datetime, grace: timedelta) -> datetime | None:
    """The scheduled time a round is due for now, if any: the latest time of the cron expression
    (UTC) not after `now`, and at most `grace` ago (a platform down at that moment catches up
    within the grace, never months later)."""
    if not expression:
        return None
    latest = croniter(expression, as_utc(now) + timedelta(seconds=1)).get_prev(datetime)
    latest = as_utc(latest)
    return latest if as_utc(now) - latest <= grace else None


def lease_expired(doc: dict, now: datetime) -> bool:
    return doc.get("lease_until") is None or as_utc(doc["lease_until"]) < now
