"""Who is invited to a clinic, and why (plain functions over plain data)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterable


def clinic_languages(clinic: dict) -> set[str]:
    return {clinic["language"], *clinic.get("interpretation", [])}


def invitation_reason(clinic: dict, person: dict) -> str | None:
    """Why this person is invited to this clinic, or None when they are not.

    Everyone must understand the clinic (its main or an interpretation language), and the clinic's
    own presenters are never invited. Monthly and thematic quarterly clinics invite those who want
    to learn one of the clinic's topics; a regional quarterly clinic (region set) invites everybody
    in that region.
    """
    if person.get("withdrawn") or person.get("_id") in clinic.get("sharers", ()):
        return None
    languages = set(person.get("languages", []))
    if not languages & clinic_languages(clinic):
        return None
    if clinic["kind"] == "quarterly" and clinic.get("region"):
        return f"region:{clinic['region']}" if person.get("region") == clinic["region"] else None
    wanted = set(person.get("learn", [])) & set(clinic["topics"])
    if wanted:
        return "interest:" + ",".join(sorted(wanted))
    return None


def invitations(clinic: dict, people: Iterable[dict]) -> list[tuple[str, str]]:
    """(person id, reason) for everyone among `people` this clinic invites, in the order given."""
    return [(person["_id"], reason) for person in people if (reason := invitation_reason(clinic, person))]


def open_for_late_invitations(clinic: dict, now: datetime) -> bool:
    """A person who joins (or gains an interest) after a clinic was scheduled is still invited while
    its first slot is ahead."""
    return clinic["status"] == "scheduled" and clinic["first_start"] > now
