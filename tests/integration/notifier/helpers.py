"""Events, contacts and Maildir reading for the notifier's integration tests."""
from __future__ import annotations

import uuid
from email.message import EmailMessage

from letsconnect.mailsink import read_maildir
from shared.bus import Publisher
from shared.events import make_event

T = "2026-11-24T10:00:00Z"


def new_id(prefix: str = "p") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def participant(pid: str, *, languages=("en",), name="Ahmed", email=None, revision=1, topics=("budget-development",),
                share_contact=True, public_profile=True, timezone="Africa/Cairo") -> dict:
    return {
        "participant_id": pid, "revision": revision, "username": f"User {pid}", "name": name,
        "email": email or f"{pid}@example.org", "languages": list(languages), "timezone": timezone,
        "region": "mena", "group": {"name": "Wikimedia Egypt", "type": "user_group"}, "role": "board",
        "purpose": "organising", "activities": ["training"],
        "interests": [{"topic": topic, "direction": "learn"} for topic in topics],
        "consent": {"public_profile": public_profile, "share_contact": share_contact, "recording": False},
        "registered_at": T,
    }


def match(match_id: str, learner: str, sharer: str, **extra) -> dict:
    return {"match_id": match_id, "topic": "budget-development", "language": "en",
            "participants": [{"participant_id": learner, "role": "learner", "share_contact": True},
                             {"participant_id": sharer, "role": "sharer", "share_contact": True}],
            "reasons": ["both work on budgets"], **extra}


def registration(clinic_id: str, pid: str, status="confirmed", reason="registered", **extra) -> dict:
    return {"clinic_id": clinic_id, "slot_id": "slot-1", "participant_id": pid, "status": status, "reason": reason,
            "position": None, "title": "Budgets that tell a story", "start": "2026-12-10T14:00:00Z", "minutes": 90,
            "language": "en", "interpretation": None, "meeting_url": "https://meet.example.org/budgets", **extra}


class Events:
    def __init__(self, settings):
        self.publisher = Publisher(settings, "notifier-tests")

    def publish(self, event_type: str, data: dict, source: str = "tests", subject_key: str | None = None,
                event_id: str | None = None) -> dict:
        from shared.events.catalogue import EVENT_TYPES

        subject = data[subject_key or EVENT_TYPES[event_type].key_field]
        envelope = make_event(event_type, subject, data, source=source, event_id=event_id)
        self.publisher.publish(envelope)
        return envelope

    def republish(self, envelope: dict) -> None:
        self.publisher.publish(envelope)

    def close(self):
        self.publisher.close()


def mail_to(maildir, address: str) -> list[EmailMessage]:
    return [m for m in read_maildir(maildir) if address in (m.get("X-Envelope-To") or "")]


def parts(message: EmailMessage) -> dict:
    """text, html and attachments of a message."""
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return {"text": text.get_content() if text else None, "html": html.get_content() if html else None,
            "attachments": list(message.iter_attachments())}
