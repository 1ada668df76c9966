"""What a planned message becomes in the delivery log (pure): parked, skipped, dropped or ready
to render; and the documents that record each of those.

deliveries: one document per (event, recipient, template): the message, its status and the log
of every attempt. Statuses: parked (a contact is not known yet), queued (due at `due_at`; `claim`
and `claimed_until` say which sender holds it), sent, failed, expired (parked too long),
cancelled (withdrawn), skipped (preferences).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifier.domain.messages import Recipient
from services.notifier.domain.parking import awaited_contacts, parked_until
from services.notifier.domain.planning import Planned
from services.notifier.domain.preferences import should_send

OPEN_STATUSES = ("parked", "queued")
FINAL_STATUSES = ("sent", "failed", "expired", "cancelled", "skipped")
STATUSES = ("parked", "queued", "sent", "failed", "expired", "cancelled", "skipped")
# what a delivery loses once it can no longer be sent (or was sent): the address and the message
SCRUB = {"message": "", "to": "", "envelope": "", "claim": "", "claimed_until": ""}
ENVELOPE_FIELDS = ("id", "type", "time", "data")


def delivery_key(event_id: str, recipient: str, template: str) -> str:
    return f"{event_id}|{recipient}|{template}"


@dataclass(frozen=True)
class Decision:
    """park (wait for `awaiting`), drop (nobody to tell), skip (turned off: `reason`) or
    render (for `recipient`)."""

    action: str
    awaiting: tuple[str, ...] = ()
    recipient: Recipient | None = None
    first_language: str | None = None
    reason: str | None = None


def decide(envelope: dict, planned: Planned, contacts: dict[str, dict], preferences: dict[str, dict]) -> Decision:
    """What to do with one planned message, given the contacts and preferences known now."""
    awaiting = awaited_contacts(envelope, planned, contacts)
    if awaiting:
        return Decision("park", awaiting=tuple(awaiting))
    if planned.participant_id is None:
        data = envelope["data"]
        return Decision("render", recipient=Recipient(
            address=planned.address, languages=(data.get("language", "en"), data.get("source_language", "en"))))
    contact = contacts[planned.participant_id]
    if contact.get("withdrawn"):
        return Decision("drop")
    if not should_send(planned.category, preferences.get(planned.participant_id)):
        return Decision("skip", first_language=contact["languages"][0],
                        reason=f"{planned.category} turned off by the participant")
    return Decision("render", recipient=Recipient.from_contact(contact))


def new_delivery(notification_id: str, envelope: dict, planned: Planned, now: datetime) -> dict:
    """The fields every delivery has, whatever becomes of it."""
    return {
        "_id": notification_id, "key": delivery_key(envelope["id"], planned.recipient, planned.template),
        "event_id": envelope["id"], "event_type": envelope["type"], "template": planned.template,
        "category": planned.category, "participant_id": planned.participant_id, "channel": "email",
        "attempts": 0, "log": [], "created_at": now, "updated_at": now,
    }


def parked(base: dict, envelope: dict, awaiting, now: datetime, park_seconds: float) -> dict:
    return {**base, "status": "parked", "language": None, "first_language": None, "awaiting": list(awaiting),
            "envelope": {k: envelope[k] for k in ENVELOPE_FIELDS},
            "parked_until": parked_until(now, park_seconds)}


def skipped(base: dict, decision: Decision) -> dict:
    return {**base, "status": "skipped", "language": None, "first_language": decision.first_language,
            "error": decision.reason}


def queued(base: dict, *, now: datetime, claim: str, claim_seconds: float, language: str, first_language: str,
           address: str, message_id: str, subject: str, message: bytes) -> dict:
    """Rendered and queued, already claimed by the sender of the process that rendered it."""
    return {**base, "status": "queued", "due_at": now, "claim": claim,
            "claimed_until": now + timedelta(seconds=claim_seconds), "language": language,
            "first_language": first_language, "to": address, "message_id": message_id, "subject": subject,
            "message": message}


# fields a parked delivery keeps when it is released (the rest is what the rendering decided)
KEPT_WHEN_RELEASED = ("_id", "seq", "created_at", "log", "attempts")


def released(ready: dict) -> dict:
    """The fields a parked delivery takes from its rendering when released."""
    return {k: v for k, v in ready.items() if k not in KEPT_WHEN_RELEASED}


def failure_entry(attempts: int, now: datetime, status: str, error: str) -> dict:
    return {"attempt": attempts, "at": now, "outcome": status, "code": None, "error": error[:500]}
