"""The events the notifier emits, built in one place (pure). No address or name travels in them."""
from __future__ import annotations

from services.notifier import SERVICE


def notification_event(doc: dict) -> dict:
    """notification-sent (and the base of notification-failed) for one delivery."""
    return {"notification_id": doc["_id"], "participant_id": doc.get("participant_id"), "event_id": doc["event_id"],
            "event_type": doc["event_type"], "template": doc["template"], "language": doc.get("language") or "en",
            "channel": "email", "attempts": int(doc.get("attempts", 0))}


def failed_event(doc: dict, error: str, permanent: bool) -> dict:
    return {**notification_event(doc), "error": error[:500], "permanent": permanent}


def template_translation_request(template: str, language: str) -> dict:
    """translation-requested for a message template that is missing in a reader's first language."""
    return {"request_id": f"template-{template}-{language}"[:64], "subject_kind": "template",
            "subject_id": template, "language": language, "source_language": "en",
            "title": f"Email template '{template}' (Let's Connect notifications)", "url": None,
            "requested_by": SERVICE}
