"""Connections people made themselves (the program's second way of connecting), and requests for
interpretation in a connection (pure)."""
from __future__ import annotations

from datetime import datetime, timedelta

from services.matcher.domain.errors import Forbidden, Invalid, MatchError, NotFound
from services.matcher.domain.matches import member
from services.matcher.domain.rules import MAX_PEOPLE


def members(creator: str, creator_role: str, others: list[dict]) -> list[dict]:
    """The people of a self-made connection: its creator (who has accepted by recording it) and
    the people they name; one sharer, at most four people, nobody twice."""
    ids = [creator] + [other["id"] for other in others]
    if len(set(ids)) != len(ids):
        raise Invalid("participants", "name each other person once, and not yourself")
    if not 2 <= len(ids) <= MAX_PEOPLE:
        raise Invalid("participants", f"a connection has two to {MAX_PEOPLE} people")
    roles = [creator_role] + [other.get("role", "learner") for other in others]
    if roles.count("sharer") != 1:
        raise Invalid("participants", "one person of the connection shares (role sharer), the others learn")
    return [{"id": pid, "role": role, "response": "accept" if pid == creator else None, "share_contact": False}
            for pid, role in zip(ids, roles)]


def new_connection(connection_id: str, topic: str, language: str, people: list[dict], creator: str,
                   now: datetime, response_days: int) -> dict:
    return {"_id": connection_id, "origin": "self_made", "created_by": creator, "topic": topic,
            "language": language, "participants": people, "status": "proposed", "reasons": [],
            "reason_codes": ["self_made"], "score": None, "round_id": None, "created_at": now,
            "expires_at": now + timedelta(days=response_days), "waited_seconds": []}


def check_interpretation(match: dict | None, participant_id: str, language: str) -> dict:
    """A member of a confirmed connection asks for an interpreter, once per language."""
    if match is None:
        raise NotFound("no such match")
    if member(match, participant_id) is None:
        raise Forbidden("you are not part of this match")
    if match["status"] != "confirmed":
        raise MatchError(f"interpretation is for a confirmed connection; this one is {match['status']}")
    if any(asked["language"] == language for asked in match.get("interpretation", [])):
        raise MatchError(f"interpretation into {language} has been asked for already")
    return match
