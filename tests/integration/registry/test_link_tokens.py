"""Least-privilege links (issue 12, item 3): a link token from an email does its one action for its
one person and nothing else. Whatever its scope, even for the person's own id as the resource, it
cannot read or change the profile, erase the account or mint a session token."""
from __future__ import annotations

import pytest

from shared.tokens import SCOPES, issue_link_token
from tests.integration.registry.test_sign_in import register
from tests.support import auth


@pytest.mark.parametrize("scope", sorted(SCOPES))
def test_no_link_token_reads_changes_or_erases_the_profile(client, settings, scope):
    person = register(client, f"Linked {scope}", f"linked-{scope.replace('.', '-')}@example.org")
    pid = person["id"]
    link = auth(issue_link_token(settings, pid, scope, pid))
    assert client.get(f"/participants/{pid}", headers=link).status_code in (401, 403)
    assert client.patch(f"/participants/{pid}", json={"name": "Changed by a link"}, headers=link).status_code in (401, 403)
    assert client.post(f"/participants/{pid}/token", headers=link).status_code in (401, 403)
    assert client.delete(f"/participants/{pid}", headers=link).status_code in (401, 403)
    profile = client.get(f"/participants/{pid}", headers=auth(person["token"]))
    assert profile.status_code == 200 and profile.get_json()["name"] != "Changed by a link"
