"""Who is told what about an event (pure: event data in, planned messages out)."""
from __future__ import annotations

from dataclasses import dataclass

from services.notifier.domain.preferences import category_of


STAFF_PREFIX = "staff:"


def staff_key(staff_id: str) -> str:
    """How a staff account is named among the contacts a message waits for."""
    return f"{STAFF_PREFIX}{staff_id}"


@dataclass(frozen=True)
class Planned:
    template: str
    participant_id: str | None = None  # a registered person (language, name, address from contacts)
    address: str | None = None         # someone outside the registry (a translator)
    staff_id: str | None = None        # a staff account (address from staff-account-changed)

    @property
    def recipient(self) -> str:
        if self.staff_id:
            return staff_key(self.staff_id)
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
    if event_type == "match-joined":  # a learner joined an open connection: they answer for themselves
        return [Planned("match_proposal", data["participant_id"])]
    if event_type == "connection-proposed":  # a self-made connection: each other member confirms it
        return [Planned("connection_confirm", pid) for pid in _members(data) if pid != data["created_by"]]
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
    if event_type == "sign-in-requested":
        if data["audience"] == "staff":
            return [Planned("sign_in", staff_id=data["subject_id"])]
        return [Planned("sign_in", data["subject_id"])]
    if event_type == "translation-requested":
        return [Planned("translation_request", address=address)
                for address in translators_for(data["language"], translators)]
    return []
