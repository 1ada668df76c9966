"""Feedback that is read: aggregates for staff and the program report, the comments, and the
pilot survey's follow-up questions. Plain functions.

Comments are shown without their author: the clinics are "not a space for ... feeling evaluated",
and what staff learn from is what was said, not who said it.
"""
from __future__ import annotations

from shared.clock import iso

RATINGS = (1, 2, 3, 4, 5)
# The pilot's survey asked, after the rating, what was useful and what to improve.
FOLLOW_UP = (
    {"id": "what_was_useful", "question": "What was most useful to you in this clinic?"},
    {"id": "what_to_improve", "question": "What should we change or improve next time?"},
)
TEXT_FIELDS = ("comment", "what_was_useful", "what_to_improve")


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def has_words(record: dict) -> bool:
    return any((record.get(field) or "").strip() for field in TEXT_FIELDS)


def aggregate(records: list[dict]) -> dict:
    """How many gave feedback, the share who found it useful, the rating distribution, the average,
    and how many wrote something."""
    ratings = {str(r): 0 for r in RATINGS}
    for record in records:
        ratings[str(record["rating"])] += 1
    return {"count": len(records), "useful_share": _ratio(sum(1 for r in records if r["useful"]), len(records)),
            "ratings": ratings, "average_rating": _ratio(sum(r["rating"] for r in records), len(records)),
            "comments": sum(1 for r in records if has_words(r))}


def by_topic(records: list[dict], topics_of: dict[str, list[str]]) -> list[dict]:
    """Per topic (a clinic's feedback counts for each of its topics): feedback, useful share,
    average rating; the most answered first."""
    grouped: dict[str, list[dict]] = {}
    for record in records:
        for topic in topics_of.get(record["clinic_id"], []):
            grouped.setdefault(topic, []).append(record)
    rows = [{"topic": topic, "feedback": len(items), "useful_share": _ratio(sum(1 for r in items if r["useful"]),
                                                                            len(items)),
             "average_rating": _ratio(sum(r["rating"] for r in items), len(items))}
            for topic, items in grouped.items()]
    return sorted(rows, key=lambda row: (-row["feedback"], row["topic"]))


def comment_view(record: dict) -> dict:
    """One answer as staff read it: what was said, the rating, when; never who."""
    return {"clinic": record["clinic_id"], "useful": record["useful"], "rating": record["rating"],
            **{field: record.get(field, "") for field in TEXT_FIELDS}, "at": iso(record["at"])}
