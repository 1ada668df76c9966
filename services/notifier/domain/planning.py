"""Who is told what about an event (pure: event data in, planned messages out)."""
from __future__ import annotations

from dataclasses import dataclass

from services.notifier.domain.preferences import category_of


@dataclass(frozen=True)
class Planned:
    template: str
    participant_id: str | None = None  # a registered person (language, name, address from contacts)
    address: str | None = None         # someone outside the registry (a translator)

    @property
    def recipient(self) -> str:
        return self.participant_id or self.address or ""

    @property
    def category(self) -> str:
        return category_of(self.template)


def registration_template(status: str, reason: str) -> str:
    """The message for a clinic registration change (scheduler's status and reason)."""
    if status == "cancelled":
        return "clinic_cancelled" if reason == "clinic_cancelled" else "clinic_registration_cancelled"
    if reason == "clinic_updated":
        return "clinic_changed"
    if reason == "promoted":
        return "clinic_promoted"
    return "clinic_waitlisted" if status == "waitlisted" else "clinic_confirmed"


def _members(data: dict) -> list[str]:
    return [member["participant_id"] for member in data["participants"]]


def translators_for(language: str, translators: dict[str, tuple[str, ...]] | None) -> tuple[str, ...]:
    """The translators configured for a language (a regional variant falls back to its base)."""
    translators = translators or {}
    addresses = translators.get(language) or translators.get(language.split("-")[0]) or ()
    return tuple(dict.fromkeys(addresses))


def plan(event_type: str, data: dict, translators: dict[str, tuple[str, ...]] | None = None) -> list[Planned]:
    """The messages an event asks for. resource-published is fanned out by topic elsewhere."""
    if event_type == "participant-registered":
        return [Planned("welcome", data["participant_id"])]
    if event_type == "match-proposed":
        return [Planned("match_proposal", pid) for pid in _members(data)]
    if event_type == "match-confirmed":
        return [Planned("match_introduction", pid) for pid in _members(data)]
    if event_type == "match-declined":
        # the person who declined knows; the others are told (everyone when it simply expired)
        decliner = data.get("participant_id") if data.get("cause", "responded") == "responded" else None
        return [Planned("match_declined", pid) for pid in _members(data) if pid != decliner]
    if event_type == "connection-completed":
        return [Planned("connection_thanks", pid) for pid in _members(data)]
    if event_type == "clinic-invited":
        return [Planned("clinic_invitation", data["participant_id"])]
    if event_type == "clinic-registration-changed":
        return [Planned(registration_template(data["status"], data["reason"]), data["participant_id"])]
    if event_type == "clinic-reminder":
        return [Planned("clinic_reminder", data["participant_id"])]
    if event_type == "session-completed":
        return [Planned("feedback_request", pid) for pid in dict.fromkeys(data["attendees"])]
    if event_type == "translation-requested":
        return [Planned("translation_request", address=address)
                for address in translators_for(data["language"], translators)]
    return []
