"""The console's pure rules (issue 15): forms to API bodies, the merged audit list, the CSV export
safe against formula injection."""
from datetime import date

from services.portal.domain.staff_console import (
    EXPORT_COLUMNS, StaffMember, bars, clinic_body, export_row, merged_audit, search_filters, spreadsheet_safe,
    staff_body, suggestion_day,
)


def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised():
    for dangerous in ("=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(dangerous) == "'" + dangerous
    assert spreadsheet_safe("Amina") == "Amina" and spreadsheet_safe(None) == "" and spreadsheet_safe(3) == "3"


def test_an_export_row_has_every_column_and_no_formula():
    row = export_row({"id": "p1", "username": "=cmd|' /C calc'!A0", "name": "Amina", "email": "a@example.org",
                      "languages": ["ar", "fr"], "group": {"name": "@group", "type": "user_group"},
                      "interests": [{"topic": "fundraising", "direction": "learn"},
                                    {"topic": "query-tools", "direction": "share"}],
                      "consent": {"public_profile": False, "share_contact": True}})
    values = dict(zip(EXPORT_COLUMNS, row))
    assert len(row) == len(EXPORT_COLUMNS)
    assert values["username"].startswith("'=") and values["group"] == "'@group"
    assert (values["learns"], values["shares"], values["languages"]) == ("fundraising", "query-tools", "ar fr")
    assert (values["public_profile"], values["share_contact"]) == ("no", "yes")


def test_a_clinic_form_becomes_the_schedulers_body_or_names_what_is_missing():
    body, errors = clinic_body({"title": ["Budgets"], "topic": ["budget-development"], "language": ["en"],
                                "slot": ["2026-12-10T14:00:00Z|90", "not-a-time|90"], "seats": ["25"],
                                "interpretation": ["ar", "en", "fr"], "sharers": ["p1, p2"]})
    assert not errors
    assert body["slots"] == [{"start": "2026-12-10T14:00:00Z", "minutes": 90}]
    assert body["interpretation"] == ["ar", "fr"] and body["sharers"] == ["p1", "p2"] and body["seats"] == 25
    _, errors = clinic_body({"title": ["x"], "seats": ["many"]})
    assert set(errors.fields) == {"title", "topic", "slot", "seats"}


def test_a_staff_form_needs_an_address_and_a_role():
    body, errors = staff_body({"email": [" wg@example.org "], "roles": ["translator", "admin", "working_group"]})
    assert not errors and body == {"email": "wg@example.org", "roles": ["working_group", "translator"]}
    assert set(staff_body({"email": ["nope"], "roles": []})[1].fields) == {"email", "roles"}


def test_the_audit_of_five_services_is_one_list_newest_first_with_names():
    merged = merged_audit({
        "matcher": [{"id": "b", "at": "2026-12-01T10:00:00", "actor": {"id": "s1"}, "action": "round.run"}],
        "registry": [{"id": "a", "at": "2026-12-01T09:00:00", "actor": {"id": "gone"}, "action": "staff.add"}],
    }, {"s1": "Wafa"})
    assert [(r["service"], r["actor_name"]) for r in merged] == [("matcher", "Wafa"), ("registry", "gone")]


def test_suggestions_default_to_two_weeks_ahead_and_never_the_past():
    today = date(2026, 12, 1)
    assert suggestion_day(None, today) == date(2026, 12, 15)
    assert suggestion_day("2026-11-01", today) == date(2026, 12, 15)
    assert suggestion_day("2026-12-20", today) == date(2026, 12, 20)
    assert suggestion_day("garbage", today) == date(2026, 12, 15)


def test_bars_scale_to_the_largest_value_and_members_roles():
    rows = bars({"mena": 10, "lac": 5})
    assert [r["width"] for r in rows] == [320, 160] and rows[1]["y"] == 26
    assert StaffMember("s", frozenset({"coordinator"})).may("translator")
    assert not StaffMember("s", frozenset({"ambassador"})).may("working_group")
    assert search_filters({"q": " ami ", "region": ""}) == {"q": "ami", "topic": None, "direction": None,
                                                           "language": None, "region": None, "group_type": None}


def test_the_dashboards_charts_come_from_the_services_figures():
    from services.portal.domain.staff_console import dashboard_charts

    charts = dashboard_charts({"registry": {"by_month": {"2026-11": 4, "2026-12": 8}, "by_group_type": {"chapter": 2}},
                               "matcher": {"proposed": 6, "confirmed": 3, "completed": 1},
                               "scheduler": {"feedback_by_rating": {"5": 2}}})
    assert [(r["label"], r["value"]) for r in charts["by_month"]] == [("2026-11", 4), ("2026-12", 8)]
    assert [r["value"] for r in charts["connections"]] == [6, 3, 1]
    assert charts["ratings"][0] == {"label": "5 ★", "value": 2, "width": 320, "y": 0}
    assert charts["by_region"] == []


def test_a_clinic_edit_sends_only_what_the_form_changed():
    from services.portal.domain.staff_console import clinic_changes, recording_confirmation

    clinic = {"title": "Budgets", "description": "", "sharers": ["p1"],
              "slots": [{"id": "s1", "start": "2026-12-11T10:00:00Z", "minutes": 60},
                        {"id": "s2", "start": "2026-12-12T10:00:00Z", "minutes": 60}]}
    unchanged = {"title": ["Budgets"], "description": [""], "sharers": ["p1"], "meeting_url": [""],
                 "start-s1": ["2026-12-11T10:00"], "minutes-s1": ["60"], "start-s2": ["2026-12-12T10:00"]}
    assert clinic_changes(unchanged, clinic) == {}
    moved = {**unchanged, "start-s2": ["2026-12-12T12:30"], "minutes-s1": ["90"], "sharers": ["p1, p2,p2"],
             "meeting_url": ["https://meet.example.org/x"]}
    assert clinic_changes(moved, clinic) == {
        "meeting_url": "https://meet.example.org/x", "sharers": ["p1", "p2"],
        "slots": [{"slot_id": "s1", "start": "2026-12-11T10:00:00Z", "minutes": 90},
                  {"slot_id": "s2", "start": "2026-12-12T12:30:00Z", "minutes": 60}]}
    assert clinic_changes({"start-s1": ["not a time"]}, clinic) == {}
    assert clinic_changes({"sharers": [""]}, clinic) == {"sharers": []}
    assert recording_confirmation({"not_recorded": ["p1", "", "p1", "p2"]}) == ["p1", "p2"]


def test_a_space_edit_sends_only_what_changed_and_names_bad_fields():
    from services.portal.domain.staff_console import space_changes

    space = {"title": "Circle", "kind": "community_of_practice", "languages": ["fr"], "link": "https://x.example",
             "description": ""}
    same = {"title": ["Circle"], "kind": ["community_of_practice"], "languages_shown": ["1"], "languages": ["fr"],
            "link": ["https://x.example"], "description": [""]}
    assert space_changes(same, space) == ({}, space_changes(same, space)[1]) and not space_changes(same, space)[1]
    changes, errors = space_changes({**same, "languages": ["fr", "ar"], "kind": ["chat_group"]}, space)
    assert changes == {"languages": ["fr", "ar"], "kind": "chat_group"} and not errors
    changes, errors = space_changes({**same, "link": ["ftp://x"], "title": ["x"]}, {**space})
    assert set(errors.fields) == {"link", "title"}
    _, errors = space_changes({k: v for k, v in same.items() if k != "languages"}, space)
    assert set(errors.fields) == {"languages"}  # every box unticked
