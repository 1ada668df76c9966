"""Who is invited, which reminders are due, whether slots make sense, the program figures.

Plain functions over plain data; the store and the worker apply them.
"""
from __future__ import annotations

from datetime import datetime, timedelta

LEADS = {"24h": timedelta(hours=24), "1h": timedelta(hours=1)}


def clinic_languages(clinic: dict) -> set[str]:
    return {clinic["language"], *clinic.get("interpretation", [])}


def invitation_reason(clinic: dict, person: dict) -> str | None:
    """Why this person is invited to this clinic, or None when they are not.

    Everyone must understand the clinic (its main or an interpretation language). Monthly and
    thematic quarterly clinics invite those who want to learn one of the clinic's topics; a
    regional quarterly clinic (region set) invites everybody in that region.
    """
    if person.get("withdrawn"):
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


def due_lead(start: datetime, now: datetime) -> str | None:
    """The reminder due now for a slot starting at `start`: 1h inside the last hour, else 24h inside
    the last day. A 24h reminder that was missed (worker down) is not sent inside the last hour."""
    if now >= start:
        return None
    left = start - now
    if left <= LEADS["1h"]:
        return "1h"
    if left <= LEADS["24h"]:
        return "24h"
    return None


def slot_problems(slots: list[dict], now: datetime) -> dict[int, list[str]]:
    """Per-slot messages (by index) for slots in the past, ending before they start, or duplicated."""
    problems: dict[int, list[str]] = {}
    seen = set()
    for index, slot in enumerate(slots):
        messages = []
        if slot["start"] <= now:
            messages.append("start is in the past")
        if slot["minutes"] <= 0:
            messages.append("the slot must end after it starts")
        if slot["start"] in seen:
            messages.append("two slots start at the same time")
        seen.add(slot["start"])
        if messages:
            problems[index] = messages
    return problems


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def program_stats(clinics: list[dict], confirmed_by_clinic: dict[str, int], feedback: list[dict]) -> dict:
    """The pilot's figures from held clinics (status completed) and their feedback.

    fill rate: confirmed seats / seats offered; no-show rate: confirmed people who did not attend /
    confirmed; feedback rate: feedback given / participations; useful share: useful / feedback.
    """
    held = [c for c in clinics if c.get("status") == "completed"]
    participations = sum(len(c.get("attendees", [])) for c in held)
    distinct = {pid for c in held for pid in c.get("attendees", [])}
    sharers = {pid for c in held for pid in c.get("sharers", [])}
    seats = sum(slot["seats"] for c in held for slot in c["slots"])
    confirmed = sum(confirmed_by_clinic.get(c["_id"], 0) for c in held)
    no_shows = sum(max(0, confirmed_by_clinic.get(c["_id"], 0) - len(c.get("confirmed_attendees", c.get("attendees", []))))
                   for c in held)
    held_ids = {c["_id"] for c in held}
    given = [f for f in feedback if f["clinic_id"] in held_ids]
    return {
        "clinics_scheduled": sum(1 for c in clinics if c.get("status") != "cancelled"),
        "clinics_held": len(held),
        "clinics_cancelled": sum(1 for c in clinics if c.get("status") == "cancelled"),
        "participations": participations,
        "distinct_participants": len(distinct),
        "sharers": len(sharers),
        "fill_rate": _ratio(confirmed, seats),
        "no_show_rate": _ratio(no_shows, confirmed),
        "feedback_rate": _ratio(len(given), participations),
        "useful_share": _ratio(sum(1 for f in given if f["useful"]), len(given)),
        "average_rating": _ratio(sum(f["rating"] for f in given), len(given)),
    }
