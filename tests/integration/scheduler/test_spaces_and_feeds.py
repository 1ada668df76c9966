"""Learning spaces and calendar feeds (issues 17 and 12): staff edit and delete spaces; an iCalendar
import of 50 events, some malformed, answers per event and writes only the good ones; a recurrence or
a date the calendar cannot render is refused when written; one bad record never fails a feed; a
person's private feed lists exactly their clinics and the spaces on their topics."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from shared.bus import Publisher
from shared.events import make_event
from shared.mongo import database
from shared.tokens import issue_link_token, issue_participant_token, issue_staff_token
from services.scheduler.app import create_app
from services.scheduler.store import Store
from services.scheduler.worker import build_worker
from tests.support import STAFF_HEADERS, auth, eventually, namespaced_settings, running

NOW = datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    app = create_app(settings)
    with running(build_worker(settings)) as worker:
        publisher = Publisher(settings, "test")
        for pid, learn in (("reader", ["fundraising"]), ("other", ["governance"])):
            publisher.publish(make_event("participant-registered", pid, {
                "participant_id": pid, "revision": 1, "username": pid, "name": pid, "email": f"{pid}@example.org",
                "languages": ["en"], "timezone": "America/Lima", "region": "lac", "group": None, "role": "board",
                "purpose": "organising", "activities": [], "interests": [{"topic": t, "direction": "learn"} for t in learn],
                "consent": {"public_profile": True, "share_contact": True, "recording": True},
                "registered_at": "2026-01-01T00:00:00Z"}, "registry"))
        publisher.close()
        eventually(lambda: Store(worker.db).people.count_documents({}) == 2)
        yield settings, app.test_client()


def space(**changes):
    body = {"kind": "community_of_practice", "title": "Fundraising circle", "topics": ["fundraising"],
            "languages": ["en", "es"], "link": "https://meta.example.org/circle", "region": "lac",
            "start": (NOW + timedelta(days=3)).isoformat(), "minutes": 60, "recurrence": "FREQ=MONTHLY;BYDAY=2TU"}
    body.update(changes)
    return body


def test_spaces_are_edited_and_deleted_by_the_working_group_and_refused_when_the_calendar_cannot_show_them(env):
    settings, client = env
    made = client.post("/spaces", json=space(), headers=STAFF_HEADERS)
    assert made.status_code == 201, made.get_json()
    sid = made.get_json()["id"]
    for rule in ("FREQ=YEARLY;BYMONTH=13", "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "FREQ=SECONDLY",
                 "FREQ=DAILY\r\nX-INJECTED:1", "RRULE:FREQ=DAILY", "FREQ=WEEKLY;UNTIL=19990101T000000Z"):
        refused = client.post("/spaces", json=space(recurrence=rule), headers=STAFF_HEADERS)
        assert refused.status_code == 422 and "recurrence" in refused.get_json()["errors"]["json"], (rule, refused.get_json())
        assert client.patch(f"/spaces/{sid}", json={"recurrence": rule}, headers=STAFF_HEADERS).status_code == 422
    for start in ("9999-12-31T23:00:00Z", "1969-12-31T23:00:00Z", "0001-01-01T00:00:00+05:00",
                  (NOW + timedelta(days=3000)).isoformat()):
        refused = client.post("/spaces", json=space(start=start), headers=STAFF_HEADERS)
        assert refused.status_code == 422 and "start" in refused.get_json()["errors"]["json"], (start, refused.get_json())
    assert client.post("/spaces", json=space(start=None), headers=STAFF_HEADERS).status_code == 422  # recurring: start
    ambassador = auth(issue_staff_token(settings, "amb", ["ambassador"]))
    assert client.patch(f"/spaces/{sid}", json={"title": "Renamed circle"}, headers=ambassador).status_code == 403
    edited = client.patch(f"/spaces/{sid}", json={"title": "Renamed circle", "recurrence": "FREQ=WEEKLY;BYDAY=TH"},
                          headers=STAFF_HEADERS)
    assert edited.status_code == 200 and edited.get_json()["recurrence"] == "FREQ=WEEKLY;BYDAY=TH"
    assert client.get(f"/spaces/{sid}").get_json()["title"] == "Renamed circle"
    assert client.patch("/spaces/nope", json={"title": "Renamed circle"}, headers=STAFF_HEADERS).status_code == 404
    assert client.delete(f"/spaces/{sid}", headers=ambassador).status_code == 403
    assert client.delete(f"/spaces/{sid}", headers=STAFF_HEADERS).status_code == 204
    assert client.get(f"/spaces/{sid}").status_code == 404
    assert client.delete(f"/spaces/{sid}", headers=STAFF_HEADERS).status_code == 404


def community_calendar(good: int, bad: list[str]) -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Wikimedia//Community calendar//EN"]
    for index in range(good):
        start = NOW + timedelta(days=5 + index)
        lines += ["BEGIN:VEVENT", f"UID:community-{index}@meta.example.org", f"SUMMARY:Community meeting {index}",
                  f"DTSTART:{start.strftime('%Y%m%dT%H%M%SZ')}", "DURATION:PT90M",
                  f"URL:https://meta.example.org/meeting-{index}",
                  "CATEGORIES:" + ("fundraising" if index % 2 else "governance,not-a-topic"),
                  *(["RRULE:FREQ=MONTHLY;BYDAY=1WE"] if index % 5 == 0 else []), "END:VEVENT"]
    for index, body in enumerate(bad):
        lines += ["BEGIN:VEVENT", f"UID:broken-{index}@meta.example.org", *body.split("\n"), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


BROKEN = [
    "SUMMARY:No start at all\nURL:https://meta.example.org/x",
    "SUMMARY:Broken start\nDTSTART:2026XX10T150000Z\nURL:https://meta.example.org/x",
    "SUMMARY:All day conference\nDTSTART;VALUE=DATE:20270301\nURL:https://meta.example.org/x",
    "SUMMARY:Never happens\nDTSTART:20270301T150000Z\nRRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31\nURL:https://meta.example.org/x",
    "SUMMARY:Bad rule\nDTSTART:20270301T150000Z\nRRULE:FREQ=NEVER\nURL:https://meta.example.org/x",
    "SUMMARY:No link anywhere\nDTSTART:20270301T150000Z",
    "SUMMARY:Floating time\nDTSTART:20270301T150000\nURL:https://meta.example.org/x",
    "SUMMARY:Too long\nDTSTART:20270301T150000Z\nDTEND:20270303T150000Z\nURL:https://meta.example.org/x",
    "SUMMARY:Far future\nDTSTART:99991231T230000Z\nURL:https://meta.example.org/x",
    "SUMMARY:Dangerous link\nDTSTART:20270301T150000Z\nURL:javascript:alert(1)",
]


def test_an_icalendar_import_answers_per_event_and_writes_only_what_can_be_shown(env):
    settings, client = env
    store = Store(database(settings, "scheduler"))
    before = store.spaces.count_documents({})
    payload = community_calendar(40, BROKEN)
    url = "/spaces/import?kind=periodic_meeting&language=en&language=fr&topic=fundraising"
    assert client.post(url, data=payload, content_type="text/calendar").status_code == 401
    assert client.post(url, data=payload, content_type="text/calendar",
                       headers=auth(issue_staff_token(settings, "amb", ["ambassador"]))).status_code == 403
    imported = client.post(url, data=payload, content_type="text/calendar", headers=STAFF_HEADERS)
    assert imported.status_code == 200, imported.get_json()
    body = imported.get_json()
    assert (body["events"], body["created"], body["error"], body["updated"]) == (50, 40, 10, 0)
    failed = {r["title"]: r["errors"] for r in body["results"] if r["status"] == "error"}
    assert set(failed["No start at all"]) == {"start"} and set(failed["Broken start"]) == {"start"}
    assert set(failed["All day conference"]) == {"start"} and set(failed["Never happens"]) == {"recurrence"}
    assert set(failed["Bad rule"]) == {"recurrence"} and set(failed["No link anywhere"]) == {"link"}
    assert set(failed["Floating time"]) == {"start"} and set(failed["Too long"]) == {"minutes"}
    assert set(failed["Far future"]) == {"start"} and set(failed["Dangerous link"]) == {"link"}
    assert store.spaces.count_documents({}) == before + 40  # nothing of a refused event was written
    made = client.get(f"/spaces/{body['results'][0]['id']}").get_json()
    assert made["topics"] == ["governance"] and made["languages"] == ["en", "fr"] and made["kind"] == "periodic_meeting"
    assert made["recurrence"] == "FREQ=MONTHLY;BYDAY=1WE" and made["minutes"] == 90

    again = client.post(url, data=community_calendar(41, []), content_type="text/calendar",
                        headers=STAFF_HEADERS).get_json()
    assert (again["created"], again["updated"]) == (1, 40)  # the same UIDs update, never duplicate
    assert store.spaces.count_documents({}) == before + 41

    for garbage, why in ((b"not a calendar", "file"), ("\udcff".encode("utf-8", "surrogatepass"), "file")):
        refused = client.post(url, data=garbage, content_type="text/calendar", headers=STAFF_HEADERS)
        assert refused.status_code == 422 and why in refused.get_json()["errors"]["json"]
    assert client.post(url, data=payload, content_type="application/xml", headers=STAFF_HEADERS).status_code == 415
    assert client.post("/spaces/import?topic=no-such-topic", data=payload, content_type="text/calendar",
                       headers=STAFF_HEADERS).status_code == 422


def test_one_bad_record_never_fails_a_feed(env):
    settings, client = env
    client.post("/spaces", json=space(title="A space that renders"), headers=STAFF_HEADERS)
    store = Store(database(settings, "scheduler"))
    # records written before these checks existed (or by hand) that no calendar can render
    store.spaces.insert_many([
        {"_id": "legacy-1", "kind": "chat_group", "title": "Legacy rule", "topics": ["fundraising"], "languages": ["en"],
         "link": "https://t.me/x", "start": NOW + timedelta(days=1), "minutes": 60, "recurrence": "FREQ=NEVER"},
        {"_id": "legacy-2", "kind": "chat_group", "title": "Legacy date", "topics": ["fundraising"], "languages": ["en"],
         "link": "https://t.me/y", "start": datetime(9999, 12, 31, 23, tzinfo=timezone.utc), "minutes": 600,
         "recurrence": None}])
    for query in ("", "?tz=Pacific/Kiritimati", "?topic=fundraising&tz=Etc/GMT%2B12"):
        feed = client.get(f"/calendar.ics{query}")
        assert feed.status_code == 200, query
        titles = [str(e["summary"]) for e in Calendar.from_ical(feed.data).walk("VEVENT")]
        assert "A space that renders" in titles and "Legacy rule" not in titles and "Legacy date" not in titles


def test_a_private_feed_lists_exactly_the_persons_clinics_and_spaces(env):
    settings, client = env
    start = NOW + timedelta(days=4)

    def clinic(title, sharers=()):
        return client.post("/clinics", headers=STAFF_HEADERS, json={
            "kind": "monthly", "title": title, "topics": ["governance"], "language": "en", "sharers": list(sharers),
            "slots": [{"start": start.isoformat(), "minutes": 90},
                      {"start": (start + timedelta(hours=10)).isoformat(), "minutes": 90}],
            "meeting_url": f"https://meet.example.org/{title.split()[0].lower()}"}).get_json()

    seated, presenting, elsewhere, cancelled = (clinic("Seated clinic"), clinic("Presenting clinic", ["reader"]),
                                                clinic("Elsewhere clinic"), clinic("Cancelled clinic"))
    for made, slot in ((seated, 1), (cancelled, 0)):
        assert client.post(f"/clinics/{made['id']}/registrations", headers=auth(issue_participant_token(settings, "reader")),
                           json={"participant": "reader", "slot": made["slots"][slot]["id"]}).status_code == 201
    client.post(f"/clinics/{elsewhere['id']}/registrations", headers=auth(issue_participant_token(settings, "other")),
                json={"participant": "other", "slot": elsewhere["slots"][0]["id"]})
    client.delete(f"/clinics/{cancelled['id']}", headers=STAFF_HEADERS)
    client.post("/spaces", json=space(title="Governance only", topics=["governance"]), headers=STAFF_HEADERS)
    client.post("/spaces", json=space(title="Fundraising space for the feed"), headers=STAFF_HEADERS)

    session = auth(issue_participant_token(settings, "reader"))
    assert client.post("/participants/reader/calendar-feed", headers=STAFF_HEADERS).status_code == 403
    assert client.post("/participants/reader/calendar-feed",
                       headers=auth(issue_participant_token(settings, "other"))).status_code == 403
    url = client.post("/participants/reader/calendar-feed", headers=session).get_json()["url"]
    token = url.split("token=")[1]
    feed = Calendar.from_ical(client.get(f"/participants/reader/calendar.ics?token={token}").data)
    entries = [(str(e["summary"]), str(e.get("location", ""))) for e in feed.walk("VEVENT")]
    titles = sorted(title for title, _ in entries)
    assert titles.count("Seated clinic") == 1  # the slot they hold, not both
    assert titles.count("Presenting clinic") == 2  # a presenter presents at both slots
    assert "Elsewhere clinic" not in titles and "Cancelled clinic" not in titles and "Governance only" not in titles
    assert "Fundraising space for the feed" in titles  # on their topic (they learn fundraising)
    assert ("Seated clinic", "https://meet.example.org/seated") in entries
    assert client.get(f"/participants/other/calendar.ics?token={token}").status_code == 403
    other_scope = issue_link_token(settings, "reader", "clinic.register", "reader")
    assert client.get(f"/participants/reader/calendar.ics?token={other_scope}").status_code == 403
    assert client.get("/participants/reader/calendar.ics?token=lc1.bad.token").status_code == 401
    assert json.loads(json.dumps(feed.to_ical().decode()))  # the feed is plain text
