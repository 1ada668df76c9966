"""What an answer, an outcome or an expiry does to a connection (pure decisions)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from shared.clock import as_utc

from services.matcher.domain.errors import Forbidden, MatchError, NotFound
from services.matcher.domain.joins import remove_member
from services.matcher.domain.matches import member


@dataclass
class Answer:
    """An accept or a decline, decided: the match's new state and the events to write."""
    match: dict
    events: list[tuple[str, dict]] = field(default_factory=list)  # (type, extra event data)
    declined: bool = False
    confirmed: bool = False
    left: bool = False  # a learner who joined an open connection declined: it goes on without them


def is_joiner(person: dict) -> bool:
    """A learner added to an open connection who has not answered yet."""
    return person.get("joined_at") is not None and person.get("response") is None


def _complete(match: dict, now: datetime) -> bool:
    """A proposal everyone in it accepted becomes a confirmed connection."""
    if match["status"] == "proposed" and all(m["response"] == "accept" for m in match["participants"]):
        match.update(status="confirmed", confirmed_at=now)
        return True
    return False


def answer(match: dict | None, participant_id: str, response: str, reason: str | None, now: datetime) -> Answer:
    """A member accepts or declines. A decline closes a proposal (the caller writes the blocks),
    except a joined learner's, who just leaves; the last accept confirms it. A learner who joined
    a confirmed connection answers for themselves: their accept introduces them."""
    if match is None:
        raise NotFound("no such match")
    person = member(match, participant_id)
    if person is None:
        raise Forbidden("you are not part of this match")
    joiner = is_joiner(person)
    if match["status"] != "proposed" and not (match["status"] == "confirmed" and joiner):
        raise MatchError(f"this match is {match['status']}; it takes no more answers")
    if joiner and response == "decline":
        result = Answer(remove_member(match, participant_id, reason, "responded", now), left=True)
        result.events.append(("match-left", {"participant_id": participant_id, "reason": reason,
                                             "cause": "responded"}))
        if _complete(match, now):
            result.confirmed = True
            result.events.append(("match-confirmed", {}))
        return result
    already_confirmed = match["status"] == "confirmed"
    person["response"] = response
    person["reason"] = reason
    event = "match-accepted" if response == "accept" else "match-declined"
    result = Answer(match, [(event, {"participant_id": participant_id, "reason": reason, "cause": "responded"})])
    if response == "decline":
        result.declined = True
        return result
    match["responded_at"] = now
    if already_confirmed:  # a joiner accepted: the connection introduces them
        result.events.append(("match-confirmed", {"participant_id": participant_id}))
    elif _complete(match, now):
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


def overdue_joiners(match: dict, now: datetime) -> list[str]:
    """Joined learners of a connection still open who did not answer by their own deadline."""
    if match["status"] not in ("proposed", "confirmed") or is_expired(match, now):
        return []
    return [m["id"] for m in match["participants"]
            if is_joiner(m) and m.get("expires_at") is not None and as_utc(m["expires_at"]) <= now]


def drop_overdue(match: dict, now: datetime) -> Answer:
    """Overdue joiners leave (the connection goes on); a proposal the others all accepted is confirmed."""
    result = Answer(match)
    for pid in overdue_joiners(match, now):
        remove_member(match, pid, "no answer in time", "expired", now)
        result.left = True
        result.events.append(("match-left", {"participant_id": pid, "reason": "no answer in time",
                                             "cause": "expired"}))
    if result.left and _complete(match, now):
        result.confirmed = True
        result.events.append(("match-confirmed", {}))
    return result


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
