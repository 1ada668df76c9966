"""Joining an open connection (pure): a learner joins a proposed or confirmed connection of up to
four people, on its topic and language, when they keep every hard rule with every member.

A join takes none of the sharer's connections (its capacity counts connections, not people), so
incremental proposals and rounds fill open connections before opening new ones.
"""
from __future__ import annotations

from datetime import date, datetime

from services.matcher.domain.matches import OPEN
from services.matcher.domain.rules import MAX_PEOPLE, different_groups, overlap, pair_key


def size(match: dict) -> int:
    return len(match["participants"])


def room(match: dict) -> int:
    """Seats left in a connection (at most four people)."""
    return max(0, MAX_PEOPLE - size(match))


def joinable(match: dict) -> bool:
    """An open connection the matcher made, with a free seat (a self-made one is its people's own)."""
    return match["status"] in OPEN and match.get("origin", "matcher") == "matcher" and room(match) > 0


def violation(learner: dict, match: dict, members: dict[str, dict], blocked: set[str], on: date, start_hour: int,
              end_hour: int, min_overlap: int) -> str | None:
    """The first hard rule the learner would break with a member of `match` (reason code), or None.
    `members` holds each member's interest on the topic (their languages, time zone, group); a
    member whose interest is gone cannot be checked, so nobody joins them."""
    pid = learner["participant_id"]
    if learner["topic"] != match["topic"] or not joinable(match):
        return "not_joinable"
    if match["language"] not in learner["languages"]:
        return "no_common_language"
    for person in match["participants"]:
        other = members.get(person["id"])
        if person["id"] == pid:
            return "same_person"
        if other is None:
            return "member_unknown"
        if not different_groups(learner, other):
            return "same_group"
        if pair_key(pid, person["id"]) in blocked:
            return "declined_before"
        if overlap(learner["timezone"], other["timezone"], on, start_hour, end_hour)[0] < min_overlap:
            return "no_time_overlap"
    return None


def member_interest(match: dict, person: dict) -> str:
    """The read model's key of a member's interest on the connection's topic."""
    return f"{person['id']}:{match['topic']}:{'share' if person['role'] == 'sharer' else 'learn'}"


def members_of(match: dict, interests: dict[str, dict]) -> dict[str, dict]:
    """Each member's interest on the topic, by person, from `interests` (by key); a member whose
    interest is not there is left out (violation() then refuses the join)."""
    return {person["id"]: interests[key] for person in match["participants"]
            if (key := member_interest(match, person)) in interests}


def order(matches: list[dict]) -> list[dict]:
    """Which open connection a learner tries first: the fullest (fewest connections half empty),
    then the oldest."""
    return sorted(matches, key=lambda m: (room(m), m["created_at"], m["_id"]))


def add_member(match: dict, learner: dict, score: float, reasons: list[str], codes: list[str], now: datetime,
               deadline: datetime, waited: float) -> dict:
    """The match with the learner added: they answer for themselves by `deadline`; those who
    accepted stay accepted (a confirmed connection stays confirmed)."""
    match["participants"].append({"id": learner["participant_id"], "role": "learner", "response": None,
                                  "share_contact": bool(learner.get("share_contact")), "joined_at": now,
                                  "expires_at": deadline})
    match["score"] = round(match["score"] + score, 4)
    match["reasons"] = list(dict.fromkeys(match["reasons"] + reasons))
    match["reason_codes"] = list(dict.fromkeys(match["reason_codes"] + codes))
    match["waited_seconds"] = match.get("waited_seconds", []) + [waited]
    return match


def remove_member(match: dict, participant_id: str, reason: str | None, cause: str, now: datetime) -> dict:
    """A joined learner leaves (declined, or did not answer in time); the connection goes on."""
    match["participants"] = [m for m in match["participants"] if m["id"] != participant_id]
    match.setdefault("left", []).append({"id": participant_id, "at": now, "reason": reason, "cause": cause})
    return match
