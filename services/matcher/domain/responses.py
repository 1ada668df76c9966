"""What an answer, an outcome or an expiry does to a connection (pure decisions)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.clock import as_utc

from services.matcher.domain.errors import Forbidden, MatchError, NotFound
from services.matcher.domain.matches import member


@dataclass
class Answer:
    """An accept or a decline, decided: the match's new state and the events to write."""
    match: dict
    events: list[tuple[str, dict]] = field(default_factory=list)  # (type, extra event data)
    declined: bool = False
    confirmed: bool = False


def answer(match: dict | None, participant_id: str, response: str, reason: str | None, now: datetime) -> Answer:
    """A member accepts or declines a proposal. A decline closes it (the caller writes the
    blocks); the last accept confirms it."""
    if match is None:
        raise NotFound("no such match")
    person = member(match, participant_id)
    if person is None:
        raise Forbidden("you are not part of this match")
    if match["status"] != "proposed":
        raise MatchError(f"this match is {match['status']}; it takes no more answers")
    person["response"] = response
    person["reason"] = reason
    event = "match-accepted" if response == "accept" else "match-declined"
    result = Answer(match, [(event, {"participant_id": participant_id, "reason": reason, "cause": "responded"})])
    if response == "decline":
        result.declined = True
        return result
    match["responded_at"] = now
    if all(m["response"] == "accept" for m in match["participants"]):
        match.update(status="confirmed", confirmed_at=now)
        result.confirmed = True
        result.events.append(("match-confirmed", {}))
    return result


def check_outcome(match: dict | None, participant_id: str) -> dict:
    """Only a member reports the outcome, and only of a confirmed connection."""
    if match is None:
        raise NotFound("no such match")
    if member(match, participant_id) is None:
        raise Forbidden("you are not part of this match")
    if match["status"] != "confirmed":
        raise MatchError(f"an outcome needs a confirmed connection; this one is {match['status']}")
    return match


def is_expired(match: dict, now: datetime) -> bool:
    """A proposal not fully answered by its deadline."""
    return match["status"] == "proposed" and as_utc(match["expires_at"]) <= now


def looking_again(data: dict) -> list[tuple[str, str]]:
    """After a proposal closed without a connection (match-declined), who is proposed again at
    once, as (role, participant): not the one who declined or left, and after an expiry only
    those who had accepted (who did not answer waits for the next round)."""
    again = []
    for person in data["participants"]:
        if data.get("cause") == "expired" and person.get("response") != "accept":
            continue
        if person["participant_id"] == data.get("participant_id"):
            continue
        again.append((person["role"], person["participant_id"]))
    return again
