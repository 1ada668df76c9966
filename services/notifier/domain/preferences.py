"""What a person chose to receive (pure rules; the API and the consumers apply them)."""
from __future__ import annotations

# Mail a person may turn off (each such message carries List-Unsubscribe for its category).
SKIPPABLE = ("matches", "invitations", "reminders", "feedback", "resources")
# Mail that is always sent: it confirms an account, or tells of a schedule change or of a
# confirmed match (the program's promise to the other people involved depends on it).
ALWAYS_SENT = ("account", "schedule", "introductions", "translations")
RESOURCE_MODES = ("digest", "immediate")

TEMPLATE_CATEGORIES = {
    "welcome": "account",
    "match_proposal": "matches",
    "match_declined": "matches",
    "connection_thanks": "matches",
    "match_introduction": "introductions",
    "clinic_invitation": "invitations",
    "clinic_confirmed": "schedule",
    "clinic_waitlisted": "schedule",
    "clinic_promoted": "schedule",
    "clinic_changed": "schedule",
    "clinic_cancelled": "schedule",
    "clinic_registration_cancelled": "schedule",
    "clinic_reminder": "reminders",
    "feedback_request": "feedback",
    "resource_new": "resources",
    "resource_digest": "resources",
    "translation_request": "translations",
}

DEFAULTS = {"skip": [], "resources": "digest"}


def category_of(template: str) -> str:
    return TEMPLATE_CATEGORIES[template]


def normalised(preferences: dict | None) -> dict:
    preferences = preferences or {}
    return {"skip": sorted(set(preferences.get("skip") or [])),
            "resources": preferences.get("resources") or DEFAULTS["resources"]}


def should_send(category: str, preferences: dict | None) -> bool:
    if category in ALWAYS_SENT:
        return True
    return category not in normalised(preferences)["skip"]


def unsubscribable(category: str) -> bool:
    """Only non-critical mail offers a one-click unsubscribe (List-Unsubscribe)."""
    return category in SKIPPABLE


def resource_mode(preferences: dict | None) -> str:
    return normalised(preferences)["resources"]


def with_unsubscribed(preferences: dict | None, category: str) -> dict:
    current = normalised(preferences)
    return {**current, "skip": sorted(set(current["skip"]) | {category})}
