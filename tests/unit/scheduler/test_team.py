"""Presenters and interpreters: who is told what, a request's status, answers, the warning time."""
from datetime import datetime, timedelta, timezone

import pytest

from services.scheduler.domain import interpretation, presenters
from services.scheduler.domain.errors import Refused

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
WARN = timedelta(hours=72)
CLINIC = {"_id": "c1", "title": "Budgets", "description": "", "topics": ["t"], "language": "en",
          "interpretation": ["ar", "fr"], "sharers": ["s1"], "status": "scheduled", "meeting_url": "https://m.example/x",
          "kind": "monthly", "revision": 1, "seats": 5,
          "slots": [{"slot_id": "a", "start": NOW + timedelta(days=5), "minutes": 90, "seats": 5},
                    {"slot_id": "b", "start": NOW + timedelta(days=5, hours=9), "minutes": 90, "seats": 5}]}


def requests(asked=None):
    ids = iter(f"r{n}" for n in range(10))
    return interpretation.new_requests(CLINIC, asked or {"ar": 2, "fr": 1}, NOW, lambda: next(ids))


def test_an_edit_tells_kept_added_and_removed_presenters():
    assert presenters.told_on_change(["a", "b"], ["b", "c"]) == [("b", "updated"), ("c", "created"), ("a", "removed")]
    assert presenters.told_on_change([], []) == []


def test_a_presenter_keeps_a_place_without_a_seat_and_only_presenters_see_their_view():
    with pytest.raises(Refused) as refused:
        presenters.check_not_presenting(CLINIC, "s1")
    assert refused.value.code == 409
    presenters.check_not_presenting(CLINIC, "p1")
    with pytest.raises(Refused) as stranger:
        presenters.check_presenter(CLINIC, "p1")
    assert stranger.value.code == 403
    view = presenters.presenter_view(CLINIC, "s1", {}, {"ar": {"status": "confirmed"}})
    assert view["meeting_url"] and view["how_to_prepare"] and view["upload"]["clinic"] == "c1"
    assert presenters.presenter_view({**CLINIC, "status": "cancelled"}, "s1", {}, {})["meeting_url"] is None


def test_one_request_per_slot_and_language_with_how_many_were_asked():
    made = requests()
    assert [(r["slot_id"], r["language"], r["asked"]) for r in made] == [
        ("a", "ar", 2), ("a", "fr", 1), ("b", "ar", 2), ("b", "fr", 1)]
    assert all(r["source_language"] == "en" and r["interpreter"] is None for r in made)


def test_status_requested_confirmed_missing_and_the_warning_time():
    ar, fr = requests()[:2]
    assert interpretation.status(ar, NOW, WARN) == "requested"
    assert interpretation.status({**ar, "asked": 0}, NOW, WARN) == "missing"
    assert interpretation.missing_reason({**ar, "asked": 0}) == "no_translator_configured"
    late = ar["start"] - timedelta(hours=71)
    assert interpretation.status(ar, late, WARN) == "missing" and interpretation.missing_reason(ar) == "no_answer"
    assert interpretation.warning_due(ar, late, WARN) and not interpretation.warning_due(ar, NOW, WARN)
    assert not interpretation.warning_due(ar, ar["start"], WARN)
    changes, told = interpretation.respond(fr, "i-fr", "decline", NOW)
    declined = {**fr, **changes}
    assert told is None and interpretation.status(declined, NOW, WARN) == "missing"
    assert interpretation.missing_reason(declined) == "all_declined"
    changes, told = interpretation.respond(ar, "i-1", "accept", NOW)
    confirmed = {**ar, **changes}
    assert told == "confirmed" and interpretation.status(confirmed, late, WARN) == "confirmed"
    assert not interpretation.warning_due(confirmed, late, WARN)
    summary = interpretation.summary([confirmed, declined], NOW, WARN)
    assert (summary["ar"]["status"], summary["fr"]["status"]) == ("confirmed", "missing")
    both_slots = interpretation.summary([confirmed, {**confirmed, "slot_id": "b", "interpreter": None}], NOW, WARN)
    assert both_slots["ar"]["status"] == "requested"  # confirmed only when every slot is


def test_the_first_to_accept_interprets_and_declining_after_accepting_withdraws():
    ar = requests()[0]
    changes, told = interpretation.respond(ar, "i-1", "accept", NOW)
    taken = {**ar, **changes}
    assert interpretation.respond(taken, "i-1", "accept", NOW) == ({}, None)
    with pytest.raises(Refused, match="already accepted"):
        interpretation.respond(taken, "i-2", "accept", NOW)
    changes, told = interpretation.respond(taken, "i-1", "decline", NOW)
    assert told == "withdrawn" and changes["interpreter"] is None
    with pytest.raises(Refused, match="cancelled"):
        interpretation.respond({**ar, "state": "cancelled"}, "i-1", "accept", NOW)
    with pytest.raises(Refused, match="started"):
        interpretation.respond(ar, "i-1", "accept", ar["start"])


def test_the_interpreter_sees_the_link_only_as_the_confirmed_interpreter():
    ar = requests()[0]
    assert interpretation.interpreter_view(ar, CLINIC, "i-1", NOW, WARN)["meeting_url"] is None
    taken = {**ar, "interpreter": "i-1", "responses": [{"interpreter": "i-1", "response": "accept", "at": NOW}]}
    mine = interpretation.interpreter_view(taken, CLINIC, "i-1", NOW, WARN)
    assert mine["meeting_url"] and mine["your_response"] == "accept" and mine["you_interpret"]
    assert interpretation.interpreter_view(taken, CLINIC, "i-2", NOW, WARN)["meeting_url"] is None
    moved = {"slot_id": "a", "start": ar["start"] + timedelta(hours=1), "minutes": 60}
    assert interpretation.moved(ar, moved) == {"start": moved["start"], "minutes": 60}
    assert interpretation.moved(ar, {"slot_id": "a", "start": ar["start"], "minutes": 90}) == {}
