"""Which people a message waits for before it can be written (pure).

Events of different topics can overtake the registrations they refer to: a match event may
arrive before a partner's participant-registered. A message is *parked* until the contact of
every person it needs has arrived, and given up after the park time.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Mapping

from services.notifier.domain.planning import Planned

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
    """Those of them whose contact has not arrived yet: the message waits for them."""
    return [pid for pid in named_people(envelope, planned) if pid not in contacts]


def parked_until(now: datetime, park_seconds: float) -> datetime:
    """When a parked message is given up (recorded as expired)."""
    return now + timedelta(seconds=park_seconds)


def expiry_reason(awaiting: list[str], park_seconds: float) -> str:
    return f"no contact for participant {', '.join(awaiting)} arrived within {park_seconds:g} s"
