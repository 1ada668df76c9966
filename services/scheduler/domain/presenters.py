"""A clinic's presenters (its sharers): who is told what when a clinic is scheduled or changed.

A presenter holds a place that takes no seat: they never register, are never invited, and see the
meeting link in their own view and messages.
"""
from __future__ import annotations

from services.scheduler.domain.errors import Refused
from services.scheduler.domain.views import clinic_view


def told_on_change(before: list[str], after: list[str]) -> list[tuple[str, str]]:
    """(participant id, change) for an edit: those kept hear `updated`, new ones `created`, those taken
    off the clinic `removed`."""
    kept = [pid for pid in after if pid in before]
    added = [pid for pid in after if pid not in before]
    removed = [pid for pid in before if pid not in after]
    return [(pid, "updated") for pid in kept] + [(pid, "created") for pid in added] + \
        [(pid, "removed") for pid in removed]


def check_presenter(clinic: dict, participant_id: str) -> None:
    """Only someone named on the clinic sees its presenter view."""
    if participant_id not in clinic["sharers"]:
        raise Refused("you are not a presenter of this clinic", 403)


def check_not_presenting(clinic: dict, participant_id: str) -> None:
    """A presenter's place is kept without a seat: they do not register for their own clinic."""
    if participant_id in clinic["sharers"]:
        raise Refused("you present at this clinic: your place is kept without taking a seat", 409)


PREPARE = ("Plan about 20 minutes for your case, then questions and conversation; the clinic lasts the slot's "
           "minutes.", "Say what worked, what did not, and why: the clinics value honest reflection over "
           "showcasing.", "Use plain language and share your slides a few days before, so the interpreters can "
           "prepare.", "Upload your slides or documents to the resource space (POST /resources on the resources "
           "service, or the portal's resource page) with this clinic's id, so people who could not attend "
           "find them.")


def presenter_view(clinic: dict, participant_id: str, seats: dict, interpretation: dict) -> dict:
    """What a presenter sees of their clinic: times, the link, who is coming, the interpretation."""
    return {**clinic_view(clinic, seats), "presenter": participant_id,
            "meeting_url": clinic.get("meeting_url") if clinic["status"] == "scheduled" else None,
            "interpretation_status": interpretation, "how_to_prepare": list(PREPARE),
            "upload": {"service": "resources", "path": "/resources", "clinic": clinic["_id"]}}
