"""What to schedule next (issue 17): topics ranked with reasons from the registry and matcher read
model, and quarterly dates before the funding cycle's deadlines (a configured calendar)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from shared.bus import Publisher
from shared.events import make_event
from services.scheduler.app import create_app
from services.scheduler.config import SchedulerConfig, funding_calendar
from services.scheduler.store import Store
from services.scheduler.worker import build_worker
from tests.support import STAFF_HEADERS, eventually, namespaced_settings, running


class Clock:
    now = datetime(2027, 1, 4, 12, tzinfo=timezone.utc)

    def __call__(self):
        return self.now


CALENDAR = funding_calendar('[{"kind": "proposal", "date": "03-01", "label": "Spring proposals"},'
                            ' {"kind": "report", "date": "2027-02-10", "label": "Annual report", "regions": ["ssa"]}]')


def person(pid, region, zone, learn=(), share=()):
    return {"participant_id": pid, "revision": 1, "username": pid, "name": pid, "email": f"{pid}@example.org",
            "languages": ["en"], "timezone": zone, "region": region, "group": None, "role": "board",
            "purpose": "organising", "activities": [],
            "interests": [{"topic": t, "direction": "learn"} for t in learn]
            + [{"topic": t, "direction": "share"} for t in share],
            "consent": {"public_profile": True, "share_contact": True, "recording": True},
            "registered_at": "2026-01-01T00:00:00Z"}


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    clock = Clock()
    config = SchedulerConfig(funding_calendar=tuple(CALENDAR))
    app = create_app(settings, clock, config)
    with running(build_worker(settings, clock, config=config)) as worker:
        publisher = Publisher(settings, "test")
        people = [person(f"l{i}", "ssa", "Africa/Lagos", learn=("volunteer-management",)) for i in range(6)]
        people += [person(f"g{i}", "mena", "Asia/Amman", learn=("governance",)) for i in range(3)]
        people += [person("s1", "ssa", "Africa/Nairobi", share=("volunteer-management", "governance"))]
        for data in people:
            publisher.publish(make_event("participant-registered", data["participant_id"], data, "registry"))
        # four of the volunteer-management learners already have a connection on it
        publisher.publish(make_event("match-confirmed", "m1", {
            "match_id": "m1", "topic": "volunteer-management", "language": "en",
            "participants": [{"participant_id": "s1", "role": "sharer"}] + [
                {"participant_id": f"l{i}", "role": "learner"} for i in range(3)]}, "matcher"))
        publisher.publish(make_event("connection-completed", "m2", {
            "match_id": "m2", "topic": "volunteer-management", "language": "en", "summary": "done",
            "completed_at": "2026-12-01T00:00:00Z",
            "participants": [{"participant_id": "s1", "role": "sharer"}, {"participant_id": "l3", "role": "learner"}]},
            "matcher"))
        publisher.close()
        store = Store(worker.db)
        eventually(lambda: store.people.count_documents({}) == 10 and store.connections.count_documents({}) == 2)
        yield settings, app.test_client(), clock


def test_topics_are_ranked_with_their_reasons(env):
    _, client, _ = env
    items = client.get("/clinics/suggest-topics?limit=40").get_json()["items"]
    ranked = {item["topic"]: item for item in items}
    volunteers, governance = ranked["volunteer-management"], ranked["governance"]
    assert volunteers["learners_waiting"] == 2 and governance["learners_waiting"] == 3  # connections count
    assert volunteers["sharers_available"] == 1 and any("2 learners want this" in r for r in volunteers["reasons"])
    assert any("1 sharer could present it" in r for r in governance["reasons"])
    assert any("no clinic on it yet" in r for r in governance["reasons"])
    assert all(item["reasons"] and item["score"] >= 0 for item in items)
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    hot = [item for item in items if item["hot"]]
    assert hot and all(any("starter topic" in r for r in item["reasons"]) for item in hot)
    assert len(client.get("/clinics/suggest-topics?limit=1").get_json()["items"]) == 1
    assert client.get("/clinics/suggest-topics?limit=100000").status_code == 422

    # a clinic scheduled on governance sinks it, with the reason
    start = Clock.now + timedelta(days=10)
    client.post("/clinics", headers=STAFF_HEADERS, json={
        "kind": "monthly", "title": "Governance clinic", "topics": ["governance"], "language": "en",
        "sharers": ["s1"], "slots": [{"start": start.isoformat(), "minutes": 90}]})
    after = {i["topic"]: i for i in client.get("/clinics/suggest-topics?limit=40").get_json()["items"]}
    assert after["governance"]["score"] < governance["score"]
    assert any("already scheduled" in r for r in after["governance"]["reasons"])
    assert after["volunteer-management"]["sharers_available"] == 0  # s1 presents the governance clinic


def test_quarterly_dates_come_before_the_deadlines(env):
    _, client, _ = env
    ssa = client.get("/clinics/suggest-dates?region=ssa").get_json()["items"]
    deadlines = [item["deadline"]["label"] for item in ssa]
    assert deadlines[:2] == ["Annual report", "Spring proposals"]
    report = ssa[0]
    assert report["date"] == "2027-01-20" and report["deadline"]["date"] == "2027-02-10"
    assert any("3 weeks before the report deadline" in r for r in report["reasons"])
    assert report["slots"] and report["reached"] == 7 and any("7 people" in r for r in report["reasons"])
    mena = client.get("/clinics/suggest-dates?region=mena").get_json()["items"]
    assert "Annual report" not in [i["deadline"]["label"] for i in mena]  # an SSA-only deadline
    thematic = client.get("/clinics/suggest-dates?theme=Volunteers&topic=volunteer-management").get_json()
    assert thematic["items"] and thematic["items"][0]["reached"] == 7
    assert client.get("/clinics/suggest-dates?region=atlantis").status_code == 422
    assert client.get("/clinics/suggest-dates?topic=no-such-topic").status_code == 422

    # a quarterly clinic already planned for that deadline takes it off the list
    client.post("/clinics", headers=STAFF_HEADERS, json={
        "kind": "quarterly", "region": "ssa", "title": "Reports in SSA", "topics": ["volunteer-management"],
        "language": "en", "slots": [{"start": "2027-01-21T13:00:00Z", "minutes": 90}]})
    again = client.get("/clinics/suggest-dates?region=ssa").get_json()["items"]
    assert "Annual report" not in [i["deadline"]["label"] for i in again]
