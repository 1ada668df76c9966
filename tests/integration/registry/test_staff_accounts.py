"""Named staff accounts on the embedded stack (issue 15): bootstrapped with `letsconnect staff add`,
signed in through the emailed single-use link (a staff token with id and roles), managed by
coordinators, audited in the same transaction; a role change or a removal ends older tokens."""
from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server

from letsconnect.client import Platform
from letsconnect.staff import add as staff_add
from shared.bus import read_topic
from shared.mongo import database
from shared.tokens import issue_link_token, verify_token
from services.registry.app import create_app
from tests.integration.registry.test_registry_api import body
from tests.support import STAFF_HEADERS, auth, eventually


@pytest.fixture(scope="module")
def registry_url(settings):
    server = make_server("127.0.0.1", 0, create_app(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def sign_in_as_staff(client, settings, email) -> dict:
    """What the staff sign-in page does: ask for the link, then exchange it (the notifier mails it;
    here the link token is made from the stored request)."""
    assert client.post("/sign-in", json={"email": email, "audience": "staff"}).status_code == 202
    db = database(settings, "registry")
    account = db.staff_accounts.find_one({"email_key": email.casefold(), "status": "active"})
    request = db.sign_in_requests.find_one({"subject_id": account["_id"], "status": "pending"})
    assert request["audience"] == "staff"
    session = client.post("/sessions", json={"token": issue_link_token(settings, account["_id"], "signin",
                                                                     request["_id"])})
    assert session.status_code == 201, session.get_json()
    return session.get_json()


def audit(client, headers, **query):
    answer = client.get("/audit", query_string=query, headers=headers)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["items"]


def test_a_coordinator_bootstrapped_from_the_command_line_signs_in_and_manages_staff(client, settings,
                                                                                      registry_url, relay, capsys):
    platform = Platform({"registry": registry_url}, "")
    assert staff_add(settings, "Lead@Example.org", ["coordinator"], "Lead Person", platform=platform) == 0
    assert "staff account" in capsys.readouterr().out

    lead = sign_in_as_staff(client, settings, "lead@example.org")
    assert lead["roles"] == ["coordinator"] and lead["name"] == "Lead Person"
    principal = verify_token(settings, lead["token"])
    assert (principal.kind, principal.subject, set(principal.roles)) == ("staff", lead["staff"], {"coordinator"})

    added = client.post("/staff", json={"email": "wg@example.org", "roles": ["working_group"], "name": "Wafa"},
                        headers=auth(lead["token"]))
    assert added.status_code == 201, added.get_json()
    member = sign_in_as_staff(client, settings, "wg@example.org")
    assert member["roles"] == ["working_group"]

    # a working-group member manages no staff and reads no audit log
    assert client.post("/staff", json={"email": "x@example.org", "roles": ["coordinator"]},
                       headers=auth(member["token"])).status_code == 403
    assert client.get("/audit", headers=auth(member["token"])).status_code == 403
    assert client.get("/staff", headers=auth(lead["token"])).get_json()["items"][1]["email"] == "wg@example.org"

    # events: the notifier learns each account's address for its sign-in mail
    def changed():
        found = [json.loads(r.value) for r in read_topic(settings, settings.topic_name("staff-account-changed"),
                                                         timeout=3)]
        return found if len(found) >= 2 else None
    events = eventually(changed)
    assert {e["data"]["email"] for e in events} >= {"Lead@Example.org", "wg@example.org"}

    # the audit log names who did what
    records = audit(client, auth(lead["token"]), action="staff.add")
    by_actor = {r["target"]["id"]: r["actor"]["id"] for r in records}
    assert by_actor[member["staff"]] == lead["staff"]
    assert by_actor[lead["staff"]] == "machine:coordinator"


def test_new_roles_end_older_tokens_and_a_removed_member_is_refused_but_stays_in_the_audit(client, settings):
    lead = client.post("/staff", json={"email": "lead2@example.org", "roles": ["coordinator"]}, headers=STAFF_HEADERS)
    assert lead.status_code == 201
    lead_token = sign_in_as_staff(client, settings, "lead2@example.org")["token"]
    created = client.post("/staff", json={"email": "amb@example.org", "roles": ["working_group"]},
                          headers=auth(lead_token)).get_json()
    old = sign_in_as_staff(client, settings, "amb@example.org")["token"]
    person = client.post("/participants", json=body("Staff Edited", email="edited@example.org")).get_json()

    # while a working-group member, they may edit a participant: audited without the address
    edited = client.patch(f"/participants/{person['id']}", json={"email": "new@example.org", "region": "esea"},
                          headers=auth(old))
    assert edited.status_code == 200, edited.get_json()
    [record] = audit(client, auth(lead_token), action="participant.update", actor=created["id"])
    assert record["before"]["email"] == "(changed)" and record["after"]["region"] == "esea"
    assert "new@example.org" not in json.dumps(record)

    # an erasure keeps the actions in the log but no longer names the person
    assert client.delete(f"/participants/{person['id']}", headers=auth(lead_token)).status_code == 204
    erased = audit(client, auth(lead_token), action="participant.erase")
    assert erased and all(person["id"] not in json.dumps(r) for r in audit(client, auth(lead_token)))

    changed = client.patch(f"/staff/{created['id']}", json={"roles": ["ambassador"]}, headers=auth(lead_token))
    assert changed.status_code == 200 and changed.get_json()["roles"] == ["ambassador"]
    other = client.post("/participants", json=body("Still Here", email="still@example.org")).get_json()
    assert client.get(f"/participants/{other['id']}", headers=auth(old)).status_code == 401  # old roles: gone
    fresh = sign_in_as_staff(client, settings, "amb@example.org")
    assert fresh["roles"] == ["ambassador"]
    assert client.get(f"/participants/{other['id']}", headers=auth(fresh["token"])).status_code == 403

    assert client.delete(f"/staff/{created['id']}", headers=auth(lead_token)).status_code == 204
    assert client.get(f"/participants/{other['id']}", headers=auth(fresh["token"])).status_code == 410
    assert client.post("/sign-in", json={"email": "amb@example.org", "audience": "staff"}).status_code == 202
    assert database(settings, "registry").sign_in_requests.count_documents(
        {"subject_id": created["id"], "status": "pending"}) == 0
    gone = client.get(f"/staff/{created['id']}", headers=auth(lead_token)).get_json()
    assert gone["status"] == "removed" and gone["email"] is None

    # the removed member's actions are still in the log, under their id
    actions = {r["action"] for r in audit(client, auth(lead_token), actor=created["id"])}
    assert actions == {"participant.update"}
    assert {"staff.add", "staff.change", "staff.remove"} <= {r["action"] for r in audit(client, auth(lead_token))}


def test_the_last_coordinator_cannot_be_removed_and_bad_input_names_the_field(client, settings):
    db = database(settings, "registry")
    only = client.post("/staff", json={"email": "only@example.org", "roles": ["coordinator"]},
                       headers=STAFF_HEADERS).get_json()
    for other in db.staff_accounts.find({"status": "active", "roles": "coordinator", "_id": {"$ne": only["id"]}}):
        assert client.delete(f"/staff/{other['_id']}", headers=STAFF_HEADERS).status_code == 204
    refused = client.delete(f"/staff/{only['id']}", headers=STAFF_HEADERS)
    assert refused.status_code == 409 and "roles" in refused.get_json()["errors"]["json"]
    bad = client.post("/staff", json={"email": "nope", "roles": ["admin"]}, headers=STAFF_HEADERS)
    assert bad.status_code == 422 and {"email", "roles"} <= set(bad.get_json()["errors"]["json"])
    twice = client.post("/staff", json={"email": "ONLY@example.org", "roles": ["translator"]}, headers=STAFF_HEADERS)
    assert twice.status_code == 409
    assert client.get("/staff", headers=auth("not-a-token")).status_code == 401


def test_the_working_group_searches_every_profile_an_ambassador_cannot(client, settings):
    hidden = body("Quiet Searcher", email="quiet.searcher@example.org")
    hidden["consent"] = {**hidden.get("consent", {}), "public_profile": False}
    created = client.post("/participants", json=hidden)
    assert created.status_code == 201, created.get_json()
    member = auth(issue_staff_token_for(settings, "working_group"))
    found = client.get("/participants", query_string={"q": "quiet sea"}, headers=member)
    assert found.status_code == 200, found.get_json()
    [item] = found.get_json()["items"]
    assert item["email"] == "quiet.searcher@example.org"  # staff see the whole profile, consented or not
    by_address = client.get("/participants", query_string={"q": "QUIET.searcher@example.org"}, headers=member)
    assert [p["id"] for p in by_address.get_json()["items"]] == [item["id"]]
    assert client.get("/participants", headers=auth(issue_staff_token_for(settings, "ambassador"))).status_code == 403
    assert client.get("/participants").status_code == 401
    assert client.get("/participants?cursor=nonsense", headers=member).status_code == 422


def issue_staff_token_for(settings, role):
    from shared.tokens import issue_staff_token

    return issue_staff_token(settings, f"s-{role}", [role])


def test_a_staff_edit_is_audited_without_what_the_person_wrote(client, settings):
    person = client.post("/participants", json=body("Note Writer", email="note.writer@example.org")).get_json()
    member = auth(issue_staff_token_for(settings, "working_group"))
    changed = client.patch(f"/participants/{person['id']}", headers=member, json={
        "interests": [{"topic": "fundraising", "direction": "learn", "note": "my private story Qzx"}],
        "group": {"name": "Secret Group Qzx", "type": "user_group"}, "role": "volunteer"})
    assert changed.status_code == 200, changed.get_json()
    coordinator = auth(issue_staff_token_for(settings, "coordinator"))
    [record] = client.get("/audit", query_string={"action": "participant.update", "actor": "s-working_group"},
                          headers=coordinator).get_json()["items"]
    assert record["after"]["interests"] == ["fundraising/learn"] and record["after"]["role"] == "volunteer"
    assert record["after"]["group"] == "(changed)" and "Qzx" not in str(record)


def test_every_staff_role_reads_names_and_nothing_else_of_the_accounts(client, settings):
    from shared.tokens import issue_staff_token

    named = client.post("/staff", headers=STAFF_HEADERS, json={"email": "named.colleague@example.org",
                                                               "roles": ["translator"], "name": "Nadia Colleague"})
    unnamed = client.post("/staff", headers=STAFF_HEADERS, json={"email": "no.name@example.org",
                                                                 "roles": ["ambassador"]})
    assert named.status_code == unnamed.status_code == 201
    for role in ("translator", "ambassador", "working_group", "coordinator"):
        answer = client.get("/staff/names", headers=auth(issue_staff_token(settings, f"someone-{role}", [role])))
        assert answer.status_code == 200, (role, answer.get_json())
        names = answer.get_json()["names"]
        assert names[named.get_json()["id"]] == "Nadia Colleague"
        assert unnamed.get_json()["id"] not in names and "@" not in json.dumps(names)
    assert client.get("/staff/names").status_code == 401
    assert client.get("/staff", headers=auth(issue_staff_token(settings, "t", ["translator"]))).status_code == 403
