"""Invitations, reminder timing, slot checks and the program figures."""
from datetime import datetime, timedelta, timezone

from services.scheduler.domain.figures import program_stats
from services.scheduler.domain.invitations import invitation_reason
from services.scheduler.domain.reminders import due_lead
from services.scheduler.domain.slots import slot_problems

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)
MONTHLY = {"kind": "monthly", "topics": ["budget-development"], "language": "en", "interpretation": ["ar"],
           "region": None}


def test_monthly_invitations_need_a_wanted_topic_and_a_shared_language():
    assert invitation_reason(MONTHLY, {"languages": ["ar"], "learn": ["budget-development"]})
    assert invitation_reason(MONTHLY, {"languages": ["fr"], "learn": ["budget-development"]}) is None
    assert invitation_reason(MONTHLY, {"languages": ["en"], "learn": ["fundraising"]}) is None
    assert invitation_reason(MONTHLY, {"languages": ["en"], "learn": ["budget-development"], "withdrawn": True}) is None


def test_regional_quarterly_clinics_invite_the_region():
    clinic = {**MONTHLY, "kind": "quarterly", "region": "ssa"}
    assert invitation_reason(clinic, {"languages": ["en"], "region": "ssa", "learn": []}) == "region:ssa"
    assert invitation_reason(clinic, {"languages": ["en"], "region": "mena", "learn": ["budget-development"]}) is None
    thematic = {**MONTHLY, "kind": "quarterly", "theme": "reporting"}
    assert invitation_reason(thematic, {"languages": ["en"], "region": "mena", "learn": ["budget-development"]})


def test_reminders_are_due_a_day_and_an_hour_before():
    start = NOW + timedelta(days=2)
    assert due_lead(start, NOW) is None
    assert due_lead(start, start - timedelta(hours=24)) == "24h"
    assert due_lead(start, start - timedelta(hours=2)) == "24h"
    assert due_lead(start, start - timedelta(hours=1)) == "1h"
    assert due_lead(start, start - timedelta(minutes=5)) == "1h"
    assert due_lead(start, start) is None


def test_slot_problems_name_the_bad_slot():
    good = {"start": NOW + timedelta(days=1), "minutes": 90}
    assert slot_problems([good], NOW) == {}
    problems = slot_problems([good, {"start": NOW - timedelta(minutes=1), "minutes": 90}, dict(good)], NOW)
    assert problems == {1: ["start is in the past"], 2: ["two slots start at the same time"]}


def test_program_stats_like_the_pilot():
    clinics = [{"_id": f"c{i}", "status": "completed", "slots": [{"seats": 20}], "sharers": [f"s{i}"],
                "attendees": [f"p{i}-{j}" for j in range(20)], "confirmed_attendees": [f"p{i}-{j}" for j in range(20)]}
               for i in range(11)] + [{"_id": "x", "status": "cancelled", "slots": [{"seats": 20}]}]
    confirmed = {f"c{i}": 20 if i else 25 for i in range(11)}
    clinics[0]["slots"] = [{"seats": 25}]
    feedback = [{"clinic_id": f"c{i % 11}", "useful": i % 10 < 7, "rating": 4} for i in range(55)]
    stats = program_stats(clinics, confirmed, feedback)
    assert stats["clinics_held"] == 11 and stats["clinics_cancelled"] == 1
    assert stats["participations"] == 220 and stats["distinct_participants"] == 220 and stats["sharers"] == 11
    assert stats["feedback_rate"] == 0.25 and stats["useful_share"] == round(40 / 55, 4)
    assert stats["fill_rate"] == 1.0 and stats["no_show_rate"] == round(5 / 225, 4)
    assert program_stats([], {}, [])["feedback_rate"] is None
