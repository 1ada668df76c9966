"""Topic ranking with reasons and quarterly dates before the funding deadlines (no database)."""
from datetime import date, datetime, timedelta, timezone

import pytest

from services.scheduler.config import funding_calendar
from services.scheduler.domain import funding, topic_ranking

NOW = datetime(2027, 1, 4, 12, tzinfo=timezone.utc)


def people():
    return ([{"_id": f"l{i}", "learn": ["budgets"]} for i in range(5)] + [{"_id": "g1", "learn": ["governance"]}]
            + [{"_id": "s1", "share": ["budgets", "governance"]}, {"_id": "s2", "share": ["budgets"]}])


def test_learners_with_a_connection_on_the_topic_are_not_waiting():
    everyone = people()
    everyone[0]["connected"] = everyone[1]["connected"] = ["budgets"]
    everyone[5]["connected"] = ["budgets"]  # connected on another topic than the one they learn
    demand = topic_ranking.demand(everyone)
    assert demand["budgets"].waiting == 3 and demand["governance"].waiting == 1
    assert demand["budgets"].sharers == 2 and demand["governance"].sharers == 1


def test_ranking_weighs_waiting_learners_starter_topics_sharers_and_time_since_the_last_clinic():
    demand = topic_ranking.demand(people())
    clinics = [{"topics": ["budgets"], "first_start": NOW - timedelta(days=40), "status": "completed", "sharers": []},
               {"topics": ["governance"], "first_start": NOW + timedelta(days=9), "status": "scheduled",
                "sharers": ["s1"]}]
    presenting = topic_ranking.add_clinics(demand, clinics, NOW)
    assert presenting == {"s1"}
    topic_ranking.add_presenting(demand, [p for p in people() if p["_id"] in presenting])
    ranked = topic_ranking.rank(demand, hot={"governance"}, now=NOW)
    by_topic = {row["topic"]: row for row in ranked}
    budgets, governance = by_topic["budgets"], by_topic["governance"]
    # budgets: 5 waiting + 1 free sharer (s2) * 3 + 1 month * 2
    assert budgets["score"] == 5 + 3 + 2 and budgets["sharers_available"] == 1
    assert "last clinic on it 40 days ago" in budgets["reasons"]
    # governance: (1 waiting + 10 hot + 12 months never) halved (no free sharer), then a fifth (scheduled)
    assert governance["score"] == round((1 + 10 + 24) * 0.5 * 0.2, 2)
    assert any("already scheduled for 2027-01-13" in r for r in governance["reasons"])
    assert any("starter topic" in r for r in governance["reasons"]) and ranked[0]["topic"] == "budgets"
    assert topic_ranking.rank(demand, set(), NOW, limit=1) == ranked[:1]
    assert topic_ranking.rank({"x": topic_ranking.TopicDemand()}, set(), NOW) == []  # nobody wants it


def test_deadlines_recur_yearly_or_once_and_may_be_regional():
    deadlines = funding_calendar('[{"kind": "proposal", "date": "03-01", "label": "Spring"},'
                                 ' {"kind": "report", "date": "2027-02-10", "label": "Annual", "regions": ["ssa"]},'
                                 ' {"kind": "report", "date": "02-29", "label": "Leap"}]')
    coming = funding.upcoming(deadlines, date(2027, 1, 4), timedelta(days=400), "ssa")
    assert [(d.isoformat(), dl.label) for d, dl in coming] == [
        ("2027-02-10", "Annual"), ("2027-02-28", "Leap"), ("2027-03-01", "Spring")]  # 02-29 in 2027: the 28th
    later = funding.upcoming(deadlines, date(2028, 1, 4), timedelta(days=56), None)
    assert [(d.isoformat(), dl.label) for d, dl in later] == [("2028-02-29", "Leap")]
    assert "Annual" not in [dl.label for _, dl in funding.upcoming(deadlines, date(2027, 1, 4),
                                                                   timedelta(days=400), "mena")]
    for bad in ('{"kind": "x"}', '[{"kind": "grant", "date": "03-01", "label": "x"}]',
                '[{"kind": "proposal", "date": "02-30", "label": "x"}]', '[{"kind": "proposal", "label": "x"}]'):
        with pytest.raises(SystemExit, match="LC_SCHEDULER_FUNDING_CALENDAR"):
            funding_calendar(bad)
    assert funding_calendar(None)  # the documented example calendar


def test_a_date_three_weeks_before_each_deadline_not_too_soon_and_not_already_covered():
    deadlines = funding.parse([{"kind": "proposal", "date": "03-01", "label": "Spring"},
                               {"kind": "report", "date": "01-20", "label": "Too close"}])
    suggested = funding.suggest_dates(deadlines, date(2027, 1, 4), None, [])
    spring = next(s for s in suggested if s["deadline"]["label"] == "Spring")
    assert spring["date"] == "2027-02-08" and "3 weeks before the proposal deadline" in spring["reasons"][0]
    assert all(s["date"] != "2026-12-30" for s in suggested)  # never in the past
    assert not any(s["deadline"]["date"] == "2027-01-20" for s in suggested)  # 16 days away: too soon
    weekend = funding.suggest_dates(funding.parse([{"kind": "report", "date": "2027-03-28", "label": "Sunday"}]),
                                    date(2027, 1, 4), None, [])
    assert date.fromisoformat(weekend[0]["date"]).weekday() < 5  # moved off the weekend
    covered = funding.suggest_dates(deadlines, date(2027, 1, 4), None, [date(2027, 2, 10)])
    assert "Spring" not in [s["deadline"]["label"] for s in covered if s["deadline"]["date"] == "2027-03-01"]
