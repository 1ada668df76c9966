"""A connection (a match) as the matcher stores it and as its events carry it (pure)."""
from __future__ import annotations

from datetime import datetime, timedelta

from shared.clock import as_utc, iso

from services.matcher.domain.candidates import Edge

OPEN = ("proposed", "confirmed")


def interest_id(data: dict) -> str:
    """One learn or share interest of one person: the read model's key."""
    return f"{data['participant_id']}:{data['topic']}:{data['direction']}"


def claim_key(learner: dict) -> str:
    """A learner interest holds one claim while a proposal or connection on its topic is open."""
    return f"{learner['participant_id']}:{learner['topic']}"


def sharer_of(match: dict) -> str:
    return next(m["id"] for m in match["participants"] if m["role"] == "sharer")


def member(match: dict, participant_id: str) -> dict | None:
    return next((m for m in match["participants"] if m["id"] == participant_id), None)


def waited_seconds(learner: dict, now: datetime) -> float:
    if not learner.get("registered_at"):
        return 0.0
    return max(0.0, (now - as_utc(learner["registered_at"])).total_seconds())


def new_match(match_id: str, sharer: dict, edges: list[Edge], language: str, round_id: str | None,
              now: datetime, response_days: int) -> dict:
    """A proposal: the sharer and the learners of `edges`, nobody has answered yet."""
    members = [{"id": sharer["participant_id"], "role": "sharer", "response": None,
                "share_contact": bool(sharer.get("share_contact"))}]
    members += [{"id": e.learner["participant_id"], "role": "learner", "response": None,
                 "share_contact": bool(e.learner.get("share_contact"))} for e in edges]
    return {"_id": match_id, "topic": sharer["topic"], "language": language, "participants": members,
            "status": "proposed", "reasons": list(dict.fromkeys(r for e in edges for r in e.reasons)),
            "reason_codes": list(dict.fromkeys(c for e in edges for c in e.codes)),
            "score": round(sum(e.score for e in edges), 4), "round_id": round_id,
            "created_at": now, "expires_at": now + timedelta(days=response_days),
            "waited_seconds": [waited_seconds(e.learner, now) for e in edges]}


def event_data(match: dict, **extra) -> dict:
    """The match as every match-* event carries it."""
    return {"match_id": match["_id"], "topic": match["topic"], "language": match["language"],
            "participants": [{"participant_id": m["id"], "role": m["role"], "response": m["response"],
                              "share_contact": m["share_contact"]} for m in match["participants"]],
            "reasons": match["reasons"], "reason_codes": match["reason_codes"], "score": match["score"],
            "round_id": match.get("round_id"), "expires_at": iso(match["expires_at"], "seconds"),
            "origin": match.get("origin", "matcher"), **extra}
