"""Live interpretation of a clinic: one request per slot and interpretation language, sent to the
translators of that language (LC_TRANSLATORS); the first to accept interprets. Plain functions.

A request's status, as the clinic shows it:
  confirmed  an interpreter accepted
  missing    nobody can come: no translator of that language is configured, every one asked
             declined, or nobody accepted by the warning time (72 hours before the slot by default)
  requested  asked, waiting for an answer
  cancelled  the clinic was cancelled
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from shared.clock import iso

from services.scheduler.domain.errors import Refused

REQUESTED, CONFIRMED, MISSING, CANCELLED = "requested", "confirmed", "missing", "cancelled"
ACCEPT, DECLINE = "accept", "decline"


def new_requests(clinic: dict, asked: dict[str, int], now: datetime, new_id: Callable[[], str]) -> list[dict]:
    """One request per slot and interpretation language; `asked` is how many translators of each
    language are configured."""
    return [{"_id": new_id(), "clinic_id": clinic["_id"], "slot_id": slot["slot_id"], "language": language,
             "source_language": clinic["language"], "title": clinic["title"], "start": slot["start"],
             "minutes": slot["minutes"], "asked": asked.get(language, 0), "responses": [], "interpreter": None,
             "state": "open", "created_at": now}
            for slot in clinic["slots"] for language in clinic["interpretation"]]


def declined(request: dict) -> int:
    return sum(1 for r in request["responses"] if r["response"] == DECLINE)


def status(request: dict, now: datetime, warn_before: timedelta) -> str:
    if request["state"] == CANCELLED:
        return CANCELLED
    if request["interpreter"]:
        return CONFIRMED
    if request["asked"] == 0 or declined(request) >= request["asked"] or now >= request["start"] - warn_before:
        return MISSING
    return REQUESTED


def missing_reason(request: dict) -> str:
    if request["asked"] == 0:
        return "no_translator_configured"
    if declined(request) >= request["asked"]:
        return "all_declined"
    return "no_answer"


def warning_due(request: dict, now: datetime, warn_before: timedelta) -> bool:
    """Staff are told (once) when a language still has no interpreter `warn_before` the slot."""
    return request["state"] == "open" and not request["interpreter"] and \
        request["start"] - warn_before <= now < request["start"]


def summary(requests: list[dict], now: datetime, warn_before: timedelta) -> dict[str, dict]:
    """Per language: the overall status (confirmed only when every slot is, missing when any slot is)
    and each slot's."""
    by_language: dict[str, list[dict]] = {}
    for request in sorted(requests, key=lambda r: r["start"]):
        by_language.setdefault(request["language"], []).append(request)
    shown = {}
    for language, items in by_language.items():
        statuses = [status(r, now, warn_before) for r in items]
        if all(s == CONFIRMED for s in statuses):
            overall = CONFIRMED
        elif CANCELLED in statuses and len(set(statuses)) == 1:
            overall = CANCELLED
        elif MISSING in statuses:
            overall = MISSING
        else:
            overall = REQUESTED
        shown[language] = {"status": overall, "slots": [{"slot": r["slot_id"], "status": s}
                                                        for r, s in zip(items, statuses)]}
    return shown


def respond(request: dict, interpreter: str, response: str, now: datetime) -> tuple[dict, str | None]:
    """The changes an interpreter's answer makes, and the interpreter-scheduled change to tell them
    (confirmed, withdrawn) or None. Accepting twice changes nothing; declining after accepting
    withdraws; a slot someone else already covers is refused."""
    if request["state"] == CANCELLED:
        raise Refused("this clinic was cancelled", 409)
    if now >= request["start"]:
        raise Refused("this session has already started", 409)
    responses = [r for r in request["responses"] if r["interpreter"] != interpreter]
    responses.append({"interpreter": interpreter, "response": response, "at": now})
    current = request["interpreter"]
    if response == ACCEPT:
        if current and current != interpreter:
            raise Refused("another interpreter has already accepted this session; thank you", 409)
        if current == interpreter:
            return {}, None
        return {"responses": responses, "interpreter": interpreter}, "confirmed"
    if current == interpreter:
        return {"responses": responses, "interpreter": None}, "withdrawn"
    return {"responses": responses}, None


def moved(request: dict, slot: dict) -> dict:
    """A slot moved: the request follows it."""
    if (request["start"], request["minutes"]) == (slot["start"], slot["minutes"]):
        return {}
    return {"start": slot["start"], "minutes": slot["minutes"]}


def interpreter_view(request: dict, clinic: dict, interpreter: str, now: datetime, warn_before: timedelta) -> dict:
    """What an interpreter sees through their link: the session, their own answer, and the link once
    they are the confirmed interpreter."""
    mine = next((r["response"] for r in request["responses"] if r["interpreter"] == interpreter), None)
    confirmed = request["interpreter"] == interpreter and clinic["status"] == "scheduled"
    return {"request": request["_id"], "clinic": clinic["_id"], "title": clinic["title"],
            "description": clinic["description"], "topics": clinic["topics"], "language": request["language"],
            "source_language": request["source_language"], "slot": request["slot_id"],
            "start": iso(request["start"]), "minutes": request["minutes"], "status": status(request, now, warn_before),
            "your_response": mine, "you_interpret": request["interpreter"] == interpreter,
            "meeting_url": clinic.get("meeting_url") if confirmed else None}
