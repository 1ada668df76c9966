"""The program report, from canned /stats answers (no I/O)."""
from letsconnect.report import build, render_html, render_table

STATS = {
    "registry": {"participants": 140, "affiliated_share": 0.5, "by_region": {"mena": 30, "ssa": 40},
                 "top_learn": [{"topic": "organisation-strategy", "count": 40}, {"topic": "query-tools", "count": 31}],
                 "top_share": [{"topic": "newcomer-training", "count": 12}]},
    "matcher": {"confirmed": 12, "completed": 5, "participants_connected": 40, "acceptance_rate": 0.8},
    "scheduler": {"clinics_held": 11, "participations": 220, "sharers": 15, "feedback_rate": 0.25,
                  "useful_share": 0.7, "distinct_participants": 120},
    "notifier": {"sent": 900, "first_language_share": 0.93},
    "resources": {"resources": 25},
}


def test_the_report_carries_the_pilots_figures():
    report = build(STATS)
    assert report["registrations"] == 140 and report["clinics_held"] == 11 and report["participations"] == 220
    assert report["connections"] == 17 and report["people_connected"] == 40
    assert report["feedback_rate"] == 0.25 and report["useful_share"] == 0.7
    assert report["top_learn"] == ["organisation-strategy", "query-tools"]


def test_the_table_reads_like_the_pilot_report():
    table = render_table(build(STATS))
    assert "Wikimedians registered" in table and "140" in table
    assert "gave feedback" in table and "25%" in table and "found it useful" in table and "70%" in table
    assert "1. Building your organisation's plan and strategy" in table


def test_missing_services_give_zeros_not_errors():
    report = build({"registry": {"participants": 3}})
    assert report["clinics_held"] == 0 and report["feedback_rate"] is None
    assert "n/a" in render_table(report)


def test_html_report_has_charts_and_escapes_text():
    stats = {**STATS, "registry": {**STATS["registry"], "by_region": {"<script>": 1}}}
    page = render_html(build(stats), stats)
    assert page.count("<svg") == 3
    assert "<script>" not in page.split('id="report-data">')[0].replace("<script type", "")
    assert "&lt;SCRIPT&gt;" in page
