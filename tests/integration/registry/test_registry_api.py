"""The registry through HTTP on the embedded stack: registration, refusals, updates, erasure,
directory consent, CSV import, stats, and the events each change emits."""
from __future__ import annotations

import csv
import io
import json

import pytest

from shared.bus import read_topic
from shared.mongo import database
from services.registry.domain.profiles import tombstone_id
from tests.support import STAFF_HEADERS, auth, eventually


def body(username="Ahmed Example", **changes):
    data = {
        "username": username, "name": "أحمد", "email": "ahmed@example.org", "languages": ["ar", "en"],
        "timezone": "Africa/Cairo", "region": "mena", "group": {"name": "Wikimedia Egypt", "type": "user_group"},
        "role": "board", "purpose": "organising", "activities": ["training", "events"],
        "interests": [{"topic": "budget-development", "direction": "learn", "note": "ميزانية <b>first</b> 🎉"},
                      {"topic": "newcomer-training", "direction": "share"}],
        "consent": {"public_profile": True, "share_contact": True, "recording": False},
    }
    data.update(changes)
    return data


def events(settings, event_type, subject=None):
    records = read_topic(settings, settings.topic_name(event_type), timeout=3)
    found = [json.loads(r.value) for r in records]
    return [e for e in found if subject is None or e["subject"] == subject]


def test_registration_returns_id_token_and_verdict_and_emits_events(client, settings, relay):
    response = client.post("/participants", json=body("Reg one"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["eligibility"] == {"eligible": True, "reasons": [], "alternatives": []}
    assert created["token"].startswith("lc1.")
    assert created["interests"][0]["note"] == "ميزانية <b>first</b> 🎉"  # stored intact, never interpreted
    pid = created["id"]
    registered = eventually(lambda: events(settings, "participant-registered", pid))
    assert registered[0]["data"]["email"] == "ahmed@example.org" and registered[0]["data"]["revision"] == 1
    skills = eventually(lambda: len(events(settings, "skill-registered", pid)) == 2 and
                        events(settings, "skill-registered", pid))
    assert {s["data"]["topic"] for s in skills} == {"budget-development", "newcomer-training"}
    assert all(s["data"]["timezone"] == "Africa/Cairo" and s["data"]["languages"] == ["ar", "en"] for s in skills)


@pytest.mark.parametrize("changes, unmet", [
    ({"group": None}, {"no_organised_group"}),
    ({"role": "none"}, {"no_organiser_role"}),
    ({"purpose": "own_editing"}, {"own_editing_only"}),
    ({"group": None, "role": "none", "purpose": "own_editing"},
     {"no_organised_group", "no_organiser_role", "own_editing_only"}),
])
def test_ineligible_applicants_are_told_why_and_where_to_learn_and_nothing_is_stored(client, settings, changes,
                                                                                       unmet):
    username = f"Ineligible {len(unmet)} {sorted(changes)}"
    response = client.post("/participants", json=body(username, **changes))
    assert response.status_code == 422
    verdict = response.get_json()["eligibility"]
    assert verdict["eligible"] is False
    assert {r["code"] for r in verdict["reasons"]} == unmet
    assert all(r["text"] for r in verdict["reasons"]) and len(verdict["alternatives"]) == len(unmet)
    assert database(settings, "registry").participants.count_documents({"username": username}) == 0


@pytest.mark.parametrize("changes, field", [
    ({"interests": [{"topic": "astrology", "direction": "learn"}]}, "interests"),
    ({"languages": ["xx"]}, "languages"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"email": "not-an-email"}, "email"),
    ({"interests": []}, "interests"),
    ({"name": "x" * 201}, "name"),
    ({"name": "Ahmed\r\nBcc: all@example.org"}, "name"),
    ({"region": "atlantis"}, "region"),
])
def test_bad_input_names_the_field_and_stores_nothing(client, settings, changes, field):
    response = client.post("/participants", json=body("Bad input user", **changes))
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["json"]
    assert database(settings, "registry").participants.count_documents({"username": "Bad input user"}) == 0


def test_usernames_are_unique_as_mediawiki_compares_them(client):
    assert client.post("/participants", json=body("émile_Zola")).status_code == 201
    again = client.post("/participants", json=body("E\u0301mile Zola", email="other@example.org"))
    assert again.status_code == 409
    assert "username" in again.get_json()["errors"]["json"]


def test_non_json_and_oversized_bodies_are_refused(client):
    assert client.post("/participants", data="username=x", content_type="text/plain").status_code == 415
    huge = body("Huge", interests=[{"topic": "budget-development", "direction": "learn", "note": "x" * 2_000_000}])
    assert client.post("/participants", json=huge).status_code == 413


def test_profile_is_private_to_its_owner_and_staff(client):
    created = client.post("/participants", json=body("Private Person")).get_json()
    other = client.post("/participants", json=body("Someone Else")).get_json()
    pid = created["id"]
    assert client.get(f"/participants/{pid}").status_code == 404  # a stranger learns nothing about the id
    assert client.get(f"/participants/{pid}", headers=auth(other["token"])).status_code == 403
    assert client.get(f"/participants/{pid}", headers=auth(created["token"])).get_json()["email"] == "ahmed@example.org"
    assert client.get(f"/participants/{pid}", headers=STAFF_HEADERS).status_code == 200
    assert client.get(f"/participants/{pid}", headers=auth("lc1.forged.token")).status_code == 401


def test_update_bumps_revision_and_emits_only_what_changed(client, settings, relay):
    created = client.post("/participants", json=body("Updater")).get_json()
    pid, token = created["id"], created["token"]
    eventually(lambda: len(events(settings, "skill-registered", pid)) == 2)
    changed = client.patch(f"/participants/{pid}", headers=auth(token), json={
        "interests": [{"topic": "budget-development", "direction": "learn", "note": "ميزانية <b>first</b> 🎉"},
                      {"topic": "fundraising", "direction": "learn"}]})
    assert changed.status_code == 200 and changed.get_json()["revision"] == 2
    withdrawn = eventually(lambda: events(settings, "skill-withdrawn", pid))
    assert [(e["data"]["topic"], e["data"]["revision"]) for e in withdrawn] == [("newcomer-training", 2)]
    skills = eventually(lambda: len(events(settings, "skill-registered", pid)) == 3 and
                        events(settings, "skill-registered", pid))
    assert skills[-1]["data"]["topic"] == "fundraising"
    assert eventually(lambda: events(settings, "participant-updated", pid))[0]["data"]["revision"] == 2
    moved = client.patch(f"/participants/{pid}", headers=auth(token), json={"timezone": "Europe/Paris"})
    assert moved.get_json()["revision"] == 3
    resent = eventually(lambda: len(events(settings, "skill-registered", pid)) == 5 and
                        events(settings, "skill-registered", pid))
    assert {e["data"]["timezone"] for e in resent[-2:]} == {"Europe/Paris"}
    refused = client.patch(f"/participants/{pid}", headers=auth(token), json={"group": None})
    assert refused.status_code == 422 and refused.get_json()["eligibility"]["eligible"] is False


def test_a_new_token_revokes_older_ones(client):
    created = client.post("/participants", json=body("Token Keeper")).get_json()
    pid, old = created["id"], created["token"]
    import time

    time.sleep(1.1)  # tokens carry whole seconds: the cut-off must fall after the old one's issue time
    fresh = client.post(f"/participants/{pid}/token", headers=auth(old))
    assert fresh.status_code == 201
    assert client.get(f"/participants/{pid}", headers=auth(old)).status_code == 401
    assert client.get(f"/participants/{pid}", headers=auth(fresh.get_json()["token"])).status_code == 200


def test_erasure_removes_the_person_everywhere_in_the_registry_and_tells_the_others(client, settings, relay):
    created = client.post("/participants", json=body("Leaving Person", email="leaving@example.org")).get_json()
    pid, token = created["id"], created["token"]
    assert any(i["id"] == pid for i in client.get("/directory?limit=200").get_json()["items"])
    assert client.delete(f"/participants/{pid}", headers=auth(token)).status_code == 204
    assert client.get(f"/participants/{pid}", headers=STAFF_HEADERS).status_code == 410
    assert all(i["id"] != pid for i in client.get("/directory?limit=200").get_json()["items"])
    db = database(settings, "registry")
    assert db.participants.count_documents({"email": "leaving@example.org"}) == 0
    assert db.withdrawn.count_documents({"_id": pid}) == 0  # not even the raw id in a searchable field
    tombstone = db.withdrawn.find_one({"_id": tombstone_id(pid)})
    assert set(tombstone) == {"_id", "revision", "withdrawn_at"}
    withdrawn = eventually(lambda: events(settings, "participant-withdrawn", pid))
    assert withdrawn[0]["data"]["revision"] == 2
    assert client.get("/stats").get_json()["withdrawn"] >= 1


def test_directory_shows_only_consenting_people_and_only_public_fields(client):
    visible = client.post("/participants", json=body("Visible Sharer", languages=["sw", "en"], region="ssa")).get_json()
    hidden = client.post("/participants", json=body("Hidden Sharer", languages=["sw"], region="ssa", consent={
        "public_profile": False, "share_contact": True, "recording": True})).get_json()
    page = client.get("/directory?language=sw&region=ssa&topic=newcomer-training&direction=share").get_json()
    ids = [item["id"] for item in page["items"]]
    assert visible["id"] in ids and hidden["id"] not in ids
    assert all("email" not in item and "timezone" not in item for item in page["items"])
    assert client.get("/directory?region=atlantis").status_code == 422


def test_directory_pages_are_stable_and_complete(client):
    for i in range(7):
        client.post("/participants", json=body(f"Pager {i}", region="lac", languages=["es"]))
    seen, cursor = [], None
    while True:
        page = client.get("/directory?region=lac&limit=3" + (f"&cursor={cursor}" if cursor else "")).get_json()
        seen += [item["username"] for item in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == sorted(seen, key=str.casefold) and len(seen) == len(set(seen)) >= 7


def test_taxonomy_in_the_asked_language_and_staff_can_add_topics(client):
    arabic = client.get("/taxonomy", headers={"Accept-Language": "ar,en;q=0.5"}).get_json()
    topics = {t["code"]: t for c in arabic["categories"] for t in c["topics"]}
    assert topics["budget-development"]["label"] == "إعداد الميزانية"
    assert client.get("/taxonomy?lang=fr").get_json()["categories"][0]["label"] == "Questions liées au financement"
    new_topic = {"code": "wiki-loves-monuments", "category": "programmatic",
                 "labels": {"en": "Running Wiki Loves Monuments"}}
    assert client.post("/taxonomy/topics", json=new_topic).status_code == 401
    assert client.post("/taxonomy/topics", json=new_topic, headers=STAFF_HEADERS).status_code == 201
    assert client.post("/taxonomy/topics", json=new_topic, headers=STAFF_HEADERS).status_code == 409
    swahili = client.get("/taxonomy?lang=sw").get_json()
    assert any(t["code"] == "wiki-loves-monuments" and t["label"] == "Running Wiki Loves Monuments"
               for c in swahili["categories"] for t in c["topics"])
    learner = body("WLM Learner", interests=[{"topic": "wiki-loves-monuments", "direction": "learn"}])
    assert client.post("/participants", json=learner).status_code == 201


def form_export(rows: int, start: int = 0) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Timestamp", "Meta username", "Full name", "Email address", "Languages", "Time zone",
                     "Region", "Group", "Group type", "Role", "Purpose", "Learn", "Share", "Public profile",
                     "Share contact", "Recording"])
    for i in range(start, start + rows):
        group, purpose = ("Wikimedians of Kenya", "organising") if i % 20 else ("", "organising")
        writer.writerow(["2026-11-01", f"Form user {i}", f"Mtumiaji {i}", f"form{i}@example.org", "sw;en",
                         "Africa/Nairobi", "ssa", group, "user_group", "volunteer", purpose,
                         "budget-development;fundraising", "newcomer-training" if i % 3 == 0 else "",
                         "yes", "yes", "no"])
    return out.getvalue()


MAPPING = json.dumps({"username": "Meta username", "name": "Full name", "email": "Email address",
                      "languages": "Languages", "timezone": "Time zone", "region": "Region", "group_name": "Group",
                      "group_type": "Group type", "role": "Role", "purpose": "Purpose", "learn_topics": "Learn",
                      "share_topics": "Share", "public_profile": "Public profile", "share_contact": "Share contact",
                      "recording": "Recording"})


def test_csv_import_of_250_rows_reports_each_row_and_reimport_creates_no_duplicates(client, settings):
    text = form_export(250)
    url = "/imports?mapping=" + MAPPING
    assert client.post(url, data=text, content_type="text/csv").status_code == 401
    first = client.post(url, data=text, content_type="text/csv", headers=STAFF_HEADERS)
    assert first.status_code == 200, first.get_json()
    result = first.get_json()
    assert result["summary"] == {"created": 237, "updated": 0, "unchanged": 0, "rejected": 13}
    rejected = [r for r in result["rows"] if r["status"] == "rejected"]
    assert rejected[0]["row"] == 2 and rejected[0]["eligibility"]["reasons"][0]["code"] == "no_organised_group"
    again = client.post(url, data=text, content_type="text/csv", headers=STAFF_HEADERS).get_json()
    assert again["summary"] == {"created": 0, "updated": 0, "unchanged": 237, "rejected": 13}
    db = database(settings, "registry")
    assert db.participants.count_documents({"source": "import"}) == 237
    edited = text.replace("form7@example.org", "form7-new@example.org")
    assert client.post(url, data=edited, content_type="text/csv", headers=STAFF_HEADERS).get_json()[
        "summary"]["updated"] == 1


def test_csv_import_rejects_bad_rows_and_files_clearly(client):
    bad = "username,email,languages,timezone,region,group_name,group_type,role,purpose,learn_topics\n" \
          "Row Good,good@example.org,en,Europe/Paris,nwe,WMFR,chapter,board,organising,fundraising\n" \
          "Row Bad,bad@example.org,en,Nowhere/Land,nwe,WMFR,chapter,board,organising,fundraising\n"
    result = client.post("/imports", data=bad, content_type="text/csv", headers=STAFF_HEADERS).get_json()
    assert [r["status"] for r in result["rows"]] == ["created", "rejected"]
    assert "timezone" in result["rows"][1]["errors"]
    missing = client.post("/imports", data="name\nx\n", content_type="text/csv", headers=STAFF_HEADERS)
    assert missing.status_code == 422 and "username" in missing.get_json()["message"]


def test_stats_report_the_pilots_figures(client):
    stats = client.get("/stats").get_json()
    assert stats["participants"] >= 238
    assert 0 < stats["affiliated_share"] <= 1
    assert stats["by_region"]["ssa"] >= 237
    learn = [t["topic"] for t in stats["top_learn"]]
    assert learn[:2] == ["budget-development", "fundraising"] and len(stats["top_learn"]) <= 5
    assert stats["top_share"][0]["topic"] == "newcomer-training"
