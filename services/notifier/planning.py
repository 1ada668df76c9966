"""Who is told what about an event (pure: event data in, planned messages out)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from services.notifier.preferences import category_of


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


# messages that name the other people of a connection, so need their contacts too
MATCH_TEMPLATES = ("match_proposal", "match_introduction", "match_declined", "connection_thanks")


def named_people(envelope: dict, planned: Planned) -> list[str]:
    """The participants whose contact this message needs: its recipient and, for a connection's
    messages, everyone it names."""
    needed = [planned.participant_id] if planned.participant_id else []
    if planned.template in MATCH_TEMPLATES:
        needed += [member["participant_id"] for member in envelope["data"].get("participants", [])]
    return list(dict.fromkeys(needed))


def awaited_contacts(envelope: dict, planned: Planned, contacts: Mapping[str, dict]) -> list[str]:
    """Those of them whose contact has not arrived yet: the message waits for them (events of
    different topics can overtake the registrations they refer to)."""
    return [pid for pid in named_people(envelope, planned) if pid not in contacts]


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
        translators = translators or {}
        language = data["language"]
        addresses = translators.get(language) or translators.get(language.split("-")[0]) or ()
        return [Planned("translation_request", address=address) for address in dict.fromkeys(addresses)]
    return []
