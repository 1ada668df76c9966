"""Recording consent per person, and feedback aggregates (no database)."""
from datetime import datetime, timezone

import pytest

from services.scheduler.domain import feedback, recording
from services.scheduler.domain.errors import Invalid, Refused

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def test_published_only_when_every_attendee_consented_and_unknown_counts_as_no():
    assert recording.decision(None, ["a"], {"a": True})["status"] == "none"
    everyone = recording.decision("https://x.example/r", ["a", "b"], {"a": True, "b": True})
    assert everyone["status"] == "publishable" and everyone["basis"] == recording.EVERYONE
    assert recording.publishable_now(everyone)
    waiting = recording.decision("https://x.example/r", ["a", "b", "c"], {"a": True, "b": False})
    assert waiting["status"] == "pending" and waiting["unconsented"] == ["b", "c"]
    assert not recording.publishable_now(waiting)


def test_staff_must_confirm_every_person_without_consent_was_not_recorded():
    waiting = recording.decision("https://x.example/r", ["a", "b", "c"], {"a": True})
    with pytest.raises(Invalid) as partial:
        recording.confirm(waiting, ["b"], "wg-1", NOW)
    assert partial.value.field == "not_recorded" and "c" in partial.value.messages[0]
    cleared = recording.confirm(waiting, ["b", "c", "c"], "wg-1", NOW)
    assert cleared["status"] == "cleared" and cleared["basis"] == recording.STAFF_CONFIRMED
    assert cleared["not_recorded"] == ["b", "c"] and cleared["confirmed_by"] == "wg-1"
    for done in (cleared, recording.decision("https://x.example/r", ["a"], {"a": True}), None):
        with pytest.raises(Refused):
            recording.confirm(done, ["b"], "wg-1", NOW)


def answer(clinic, useful, rating, comment="", **follow_up):
    return {"clinic_id": clinic, "useful": useful, "rating": rating, "comment": comment, "at": NOW, **follow_up}


def test_aggregates_like_the_pilot_survey():
    records = [answer("c1", True, 5, "great"), answer("c1", True, 4), answer("c2", False, 2, what_to_improve="time")]
    summary = feedback.aggregate(records)
    assert summary == {"count": 3, "useful_share": 0.6667, "ratings": {"1": 0, "2": 1, "3": 0, "4": 1, "5": 1},
                       "average_rating": 3.6667, "comments": 2}
    assert feedback.aggregate([])["useful_share"] is None
    rows = feedback.by_topic(records, {"c1": ["a", "b"], "c2": ["a"]})
    assert rows == [{"topic": "a", "feedback": 3, "useful_share": 0.6667, "average_rating": 3.6667},
                    {"topic": "b", "feedback": 2, "useful_share": 1.0, "average_rating": 4.5}]


def test_staff_read_what_was_said_not_who_said_it():
    view = feedback.comment_view({**answer("c1", True, 5, "great", what_was_useful="x"), "participant_id": "p1"})
    assert "participant_id" not in view and "p1" not in str(view)
    assert view["comment"] == "great" and view["what_was_useful"] == "x" and view["at"] == "2026-12-01T12:00:00Z"
    assert [q["id"] for q in feedback.FOLLOW_UP] == ["what_was_useful", "what_to_improve"]
