"""Staff account rules (issue 15): roles, what a change announces, the last coordinator, removal."""
import pytest

from services.registry.domain.staff import (
    StaffNotFound, StaffRefused, audited, changed_account, event, new_account, removed_account,
)
from shared.audit import CHANGED, changes

NOW = "2026-11-30T12:00:00.000000Z"
LATER = "2026-11-30T13:00:00.000000Z"


def account(roles=("working_group",)):
    return new_account({"email": " Wg@Example.org ", "roles": list(roles), "name": "Amal"}, "s1", NOW, "c1")


def test_a_new_account_is_active_with_known_roles_in_a_fixed_order():
    created = new_account({"email": "a@example.org", "roles": ["translator", "coordinator"]}, "s1", NOW, "c1")
    assert created["roles"] == ["coordinator", "translator"]
    assert created["status"] == "active" and created["revision"] == 1 and created["email_key"] == "a@example.org"
    with pytest.raises(StaffRefused):
        new_account({"email": "a@example.org", "roles": ["admin"]}, "s1", NOW, "c1")
    with pytest.raises(StaffRefused):
        new_account({"email": "a@example.org", "roles": []}, "s1", NOW, "c1")


def test_new_roles_end_older_tokens_and_bump_the_revision():
    after = changed_account(account(), {"roles": ["ambassador"]}, LATER, "c1", coordinators_left=1)
    assert after["roles"] == ["ambassador"] and after["revision"] == 2 and after["tokens_valid_after"] == LATER
    assert event(after)["tokens_valid_after"] == LATER and event(after)["changed_by"] == "c1"


def test_a_name_change_keeps_tokens():
    after = changed_account(account(), {"name": "Amal K."}, LATER, "c1", coordinators_left=1)
    assert after["tokens_valid_after"] is None and after["revision"] == 2


def test_nothing_to_change_changes_nothing():
    before = account()
    assert changed_account(before, {"roles": ["working_group"]}, LATER, "c1", 1) is before


def test_the_last_coordinator_keeps_the_role_and_the_account():
    coordinator = account(("coordinator",))
    with pytest.raises(StaffRefused, match="at least one coordinator"):
        changed_account(coordinator, {"roles": ["working_group"]}, LATER, "c2", coordinators_left=0)
    with pytest.raises(StaffRefused):
        removed_account(coordinator, LATER, "c2", coordinators_left=0)
    assert removed_account(coordinator, LATER, "c2", coordinators_left=1)["status"] == "removed"


def test_a_removed_account_keeps_no_address_or_name_and_cannot_change():
    gone = removed_account(account(), LATER, "c1", coordinators_left=1)
    assert gone["email"] is None and gone["name"] is None and gone["tokens_valid_after"] == LATER
    data = event(gone)
    assert data["status"] == "removed" and data["email"] is None
    with pytest.raises(StaffNotFound):
        changed_account(gone, {"roles": ["translator"]}, LATER, "c1", 1)


def test_audit_changes_keep_roles_but_not_addresses():
    before, after = account(), changed_account(account(), {"roles": ["ambassador"], "name": "B"}, LATER, "c1", 1)
    old, new = changes(audited(before), audited(after))
    assert old == {"roles": ["working_group"], "name": CHANGED} and new == {"roles": ["ambassador"], "name": CHANGED}


def test_the_names_list_holds_names_only_never_an_address():
    from services.registry.domain.staff import names

    accounts = [{"_id": "s1", "name": "Nadia", "email": "nadia@example.org", "roles": ["translator"]},
                {"_id": "s2", "name": None, "email": "anon@example.org", "roles": ["ambassador"]}]
    assert names(accounts) == {"s1": "Nadia"}
