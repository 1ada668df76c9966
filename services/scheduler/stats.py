"""GET /stats: the program's figures (domain/figures.py) and what participants said
(domain/feedback.py), from what the store holds."""
from __future__ import annotations

from services.scheduler.domain import feedback
from services.scheduler.domain.figures import confirmed_by_clinic, program_stats
from services.scheduler.store import Store


def stats(store: Store) -> dict:
    clinics, given = store.figures_input()
    held = {c["_id"]: c["topics"] for c in clinics if c.get("status") == "completed"}
    said = feedback.aggregate([f for f in given if f["clinic_id"] in held])
    return {**program_stats(clinics, confirmed_by_clinic(clinics), given), **store.counts(),
            "feedback_by_rating": said["ratings"], "feedback_comments": said["comments"],
            "usefulness_by_topic": feedback.by_topic([f for f in given if f["clinic_id"] in held], held)}
