"""Shared bits of the matcher's integration tests."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from shared.tokens import issue_participant_token
from shared.bus import read_topic
from shared.events import make_event
from tests.support import STAFF_HEADERS


class Clock:
    """An injectable clock: tests move it instead of waiting days."""

    def __init__(self):
        self.now = datetime(2026, 11, 24, 12, 0, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


def skill(pid, topic, direction, languages=("ar", "en"), tz="Africa/Cairo", region="mena", group=None,
          revision=1, share_contact=True, registered_at="2026-11-01T10:00:00Z"):
    return {"participant_id": pid, "revision": revision, "topic": topic, "direction": direction,
            "languages": list(languages), "timezone": tz, "region": region,
            "group": group or {"name": f"Group of {pid}", "type": "user_group"}, "share_contact": share_contact,
            "registered_at": registered_at}


def publish(publisher, event_type, data):
    publisher.publish(make_event(event_type, data["participant_id"], data, "registry"))


def matches_of(client, pid):
    return client.get(f"/matches?participant={pid}", headers=STAFF_HEADERS).get_json()["items"]


def token(settings, pid):
    return issue_participant_token(settings, pid)


def events_of(settings, event_type, match_id, timeout=2):
    return [json.loads(r.value) for r in read_topic(settings, settings.topic_name(event_type), timeout=timeout)
            if r.key.decode() == match_id]
