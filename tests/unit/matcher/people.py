"""Plain-data candidates for the matcher's unit tests."""
from datetime import date, datetime, timezone

DAY = date(2026, 12, 2)
NOW = datetime(2026, 11, 24, tzinfo=timezone.utc)


def person(pid, topic="budget-development", direction="learn", languages=("ar", "en"), tz="Africa/Cairo",
           region="mena", group=None, registered_at="2026-11-01T00:00:00Z"):
    return {"participant_id": pid, "topic": topic, "direction": direction, "languages": list(languages),
            "timezone": tz, "region": region, "group": {"name": group or f"group {pid}", "type": "user_group"},
            "registered_at": registered_at}


def sharer(pid, **kwargs):
    return person(pid, direction="share", **kwargs)
