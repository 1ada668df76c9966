"""The decisions the service layer applies: who sees the meeting link, what an edit changes, who
may complete and give feedback, the read model's freshness, what each event carries."""
from datetime import datetime, timedelta, timezone

import pytest

from services.scheduler.domain import clinics, completion, events, invitations, people, seats, views
from services.scheduler.domain.errors import NotFound, Refused

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def clinic(**changes):
    base = {"_id": "c1", "kind": "monthly", "title": "Budgets", "description": "", "topics": ["budget-development"],
            "sharers": ["s1"], "language": "en", "interpretation": ["ar"], "seats": 2, "region": None, "theme": None,
            "meeting_url": "https://meet.example.org/room", "status": "scheduled", "revision": 1,
            "slots": [{"slot_id": "a", "start": NOW + timedelta(days=2), "minutes": 90, "seats": 2},
                      {"slot_id": "b", "start": NOW + timedelta(days=2, hours=9), "minutes": 90, "seats": 2}]}
    base.update(changes)
    return base


def registration(status, **changes):
    return {"_id": "r", "clinic_id": "c1", "slot_id": "a", "participant_id": "p1", "status": status, "seq": 1,
            "interpretation": None, **changes}


def test_only_a_confirmed_seat_at_a_clinic_still_to_be_held_sees_the_meeting_link():
    assert seats.sees_meeting_link(clinic(), "confirmed")
    assert not seats.sees_meeting_link(clinic(), "waitlisted")
    assert not seats.sees_meeting_link(clinic(), "cancelled")
    assert not seats.sees_meeting_link(clinic(status="cancelled"), "confirmed")
    assert not seats.sees_meeting_link(clinic(status="completed"), "confirmed")
    own = views.registration_view(clinic(), registration("confirmed"), None)
    assert own["meeting_url"] == "https://meet.example.org/room"
    assert views.registration_view(clinic(), registration("waitlisted"), 3)["meeting_url"] is None
    public = views.clinic_view(clinic(), {"a": {"confirmed": 2}, "b": {"confirmed": 0}})
    assert "meeting_url" not in public and public["has_meeting_link"]
    assert [s["seats_left"] for s in public["slots"]] == [0, 2]


def test_registration_events_carry_the_link_only_for_a_confirmed_seat():
    assert events.registration_data(clinic(), registration("confirmed"), "registered")["meeting_url"]
    assert events.registration_data(clinic(), registration("waitlisted"), "registered", 1)["meeting_url"] is None
    cancelled = clinic(status="cancelled")
    assert events.registration_data(cancelled, registration("cancelled"), "clinic_cancelled")["meeting_url"] is None
    assert "meeting_url" not in events.clinic_data(clinic(), "created")
    reminder = events.reminder_data(clinic(), clinic()["slots"][0], "p1", "24h")
    assert reminder["meeting_url"] and reminder["start"] == "2026-12-03T12:00:00Z"


def test_nobody_is_promoted_into_a_slot_that_has_started():
    waiting = [{"id": "w", "seq": 4}]
    assert seats.after_cancellation("confirmed", waiting, slot_started=True).promoted is None
    assert seats.after_cancellation("confirmed", waiting, slot_started=False).promoted["id"] == "w"


def test_one_active_registration_per_person_and_slot_lookup():
    seats.check_not_registered(None)
    seats.check_not_registered(registration("cancelled"))
    with pytest.raises(Refused, match="already waitlisted"):
        seats.check_not_registered(registration("waitlisted"))
    with pytest.raises(Refused) as unknown:
        seats.find_slot(clinic(), "zz")
    assert unknown.value.code == 422 and unknown.value.field == "slot"
    with pytest.raises(NotFound):
        seats.check_can_give_back(clinic(), registration("cancelled"))
    with pytest.raises(Refused, match="already taken place"):
        seats.check_can_give_back(clinic(status="completed"), registration("confirmed"))


def test_a_new_clinic_orders_its_slots_and_gives_each_the_seats():
    ids = iter(f"id{n}" for n in range(10))
    data = {"kind": "monthly", "title": "T", "description": "", "topics": ["x", "x"], "sharers": ["s", "s"],
            "language": "en", "interpretation": ["ar"], "seats": 5,
            "slots": [{"start": NOW + timedelta(days=3), "minutes": 60}, {"start": NOW + timedelta(days=2), "minutes": 90}]}
    made = clinics.new_clinic(data, NOW, lambda: next(ids))
    assert [s["minutes"] for s in made["slots"]] == [90, 60] and made["first_start"] == NOW + timedelta(days=2)
    assert made["topics"] == ["x"] and made["sharers"] == ["s"] and made["status"] == "scheduled"
    assert [c["seats"] for c in clinics.seat_counters(made)] == [5, 5]


def test_an_edit_moves_slots_forward_only_and_only_on_a_scheduled_clinic():
    later = NOW + timedelta(days=5)
    changes = clinics.edit(clinic(), {"title": "New", "slots": [{"slot_id": "a", "start": later, "minutes": 60}]}, NOW)
    assert changes["title"] == "New" and changes["revision"] == 2
    assert [s["slot_id"] for s in changes["slots"]] == ["b", "a"] and changes["first_start"] == clinic()["slots"][1]["start"]
    with pytest.raises(Refused, match="past"):
        clinics.edit(clinic(), {"slots": [{"slot_id": "a", "start": NOW, "minutes": 60}]}, NOW)
    with pytest.raises(Refused, match="no slot"):
        clinics.edit(clinic(), {"slots": [{"slot_id": "q", "start": later, "minutes": 60}]}, NOW)
    with pytest.raises(Refused, match="cancelled clinic cannot be changed"):
        clinics.edit(clinic(status="cancelled"), {"title": "x"}, NOW)
    assert clinics.cancellation(clinic(), NOW)["status"] == "cancelled"


def test_completion_takes_confirmed_people_and_presenters_and_feedback_needs_attendance():
    with pytest.raises(Refused) as stranger:
        completion.completion(clinic(), {"attendees": ["p1", "nobody"]}, {"p1"}, NOW)
    assert stranger.value.field == "attendees" and "nobody" in stranger.value.message
    done = completion.completion(clinic(), {"attendees": ["p1", "s1", "p1"]}, {"p1", "p2"}, NOW)
    assert done["attendees"] == ["p1", "s1"] and done["confirmed_attendees"] == ["p1"] and done["confirmed_count"] == 2
    held = {**clinic(), **done}
    completion.check_feedback(held, "p1", already_given=False)
    with pytest.raises(Refused) as absent:
        completion.check_feedback(held, "p2", already_given=False)
    assert absent.value.code == 403
    with pytest.raises(Refused) as twice:
        completion.check_feedback(held, "p1", already_given=True)
    assert twice.value.code == 409


def test_presenters_are_not_invited_and_late_invitations_stop_at_the_first_slot():
    person = {"_id": "s1", "languages": ["en"], "learn": ["budget-development"]}
    assert invitations.invitation_reason(clinic(), person) is None
    assert invitations.invitations(clinic(), [person, {**person, "_id": "p9"}]) == [
        ("p9", "interest:budget-development")]
    assert invitations.open_for_late_invitations({**clinic(), "first_start": NOW + timedelta(hours=1)}, NOW)
    assert not invitations.open_for_late_invitations({**clinic(), "first_start": NOW}, NOW)


def participant(revision, **changes):
    return {"participant_id": "p1", "revision": revision, "languages": ["ar"], "timezone": "Africa/Cairo",
            "region": "mena", "group": None, "consent": {"recording": True, "public_profile": True, "share_contact": True},
            "interests": [{"topic": "a", "direction": "learn"}, {"topic": "b", "direction": "share"}], **changes}


def test_the_read_model_ignores_older_revisions_and_anything_after_erasure():
    held = people.from_participant(participant(3))
    assert held["learn"] == ["a"] and held["share"] == ["b"]
    assert people.is_stale(held, 2) and not people.is_stale(held, 3) and not people.is_stale(None, 1)
    assert people.is_stale(people.tombstone("p1", 4), 9)
    skill = {"participant_id": "p1", "revision": 4, "topic": "c", "direction": "learn", "languages": ["ar"],
             "timezone": "Africa/Cairo", "region": "mena", "group": None}
    assert people.with_skill(held, skill)["learn"] == ["a", "c"]
    assert people.with_skill(None, skill)["share"] == []
    assert people.without_skill(held, {**skill, "topic": "a"}) == {"revision": 4, "learn": []}
    assert people.without_skill({"_id": "p1", "revision": 1}, skill) is None
