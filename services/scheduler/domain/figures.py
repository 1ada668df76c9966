"""The program's figures from held clinics and their feedback (plain functions)."""
from __future__ import annotations


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


def confirmed_by_clinic(clinics: list[dict]) -> dict[str, int]:
    """Seats confirmed at each clinic when it was completed."""
    return {c["_id"]: c.get("confirmed_count", 0) for c in clinics}
