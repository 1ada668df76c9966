"""The working group hides a resource from the public lists with a reason and restores it (issue
15): search, its page and the Meta-Wiki export stop showing it, staff still read it, both actions
are audited with the person; an ambassador may not."""
from __future__ import annotations

import pytest

from shared.tokens import issue_staff_token
from services.resources.app import create_app
from tests.integration.resources.test_resources_api import body
from tests.support import auth, namespaced_settings


@pytest.fixture(scope="module")
def env(servers):
    settings = namespaced_settings(servers)
    return settings, create_app(settings).test_client()


def test_hide_and_restore_a_resource(env):
    settings, client = env
    member = auth(issue_staff_token(settings, "wg-r", ["working_group"]))
    coordinator = auth(issue_staff_token(settings, "coord-r", ["coordinator"]))
    ambassador = auth(issue_staff_token(settings, "amb-r", ["ambassador"]))
    made = client.post("/resources", json=body(title="Spam-looking slides about budgets"), headers=member).get_json()
    assert [r["id"] for r in client.get("/resources?q=spam").get_json()["items"]] == [made["id"]]

    assert client.post(f"/resources/{made['id']}/hide", json={"reason": "duplicate"}, headers=ambassador).status_code \
        == 403
    assert client.post(f"/resources/{made['id']}/hide", json={"reason": ""}, headers=member).status_code == 422
    hidden = client.post(f"/resources/{made['id']}/hide", json={"reason": "a duplicate of the 2023 deck"},
                         headers=member)
    assert hidden.status_code == 200 and hidden.get_json()["hidden"]["reason"] == "a duplicate of the 2023 deck"
    assert client.get("/resources?q=spam").get_json()["items"] == []
    assert client.get(f"/resources/{made['id']}").status_code == 404
    assert "Spam-looking" not in client.get("/resources/export.wikitext").get_data(as_text=True)
    assert client.get(f"/resources/{made['id']}", headers=member).get_json()["hidden"]["by"] == "wg-r"
    assert [r["id"] for r in client.get("/resources/hidden", headers=member).get_json()["items"]] == [made["id"]]

    restored = client.post(f"/resources/{made['id']}/restore", headers=member)
    assert restored.status_code == 200 and "hidden" not in restored.get_json()
    assert [r["id"] for r in client.get("/resources?q=spam").get_json()["items"]] == [made["id"]]
    assert client.get(f"/resources/{made['id']}").status_code == 200

    records = client.get("/audit", headers=coordinator).get_json()["items"]
    assert [(r["action"], r["actor"]["id"]) for r in records] == [("resource.restore", "wg-r"),
                                                                 ("resource.hide", "wg-r")]
    assert records[1]["after"] == {"hidden": True, "reason": "a duplicate of the 2023 deck"}
