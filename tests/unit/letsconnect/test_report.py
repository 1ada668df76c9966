"""The program report, from canned /stats answers (no I/O)."""
from letsconnect.report import build, render_html, render_table

STATS = {
    "registry": {"participants": 140, "affiliated_share": 0.5, "by_region": {"mena": 30, "ssa": 40},
                 "top_learn": [{"topic": "organisation-strategy", "count": 40}, {"topic": "query-tools", "count": 31}],
                 "top_share": [{"topic": "newcomer-training", "count": 12}]},
    "matcher": {"confirmed": 12, "completed": 5, "participants_connected": 40, "acceptance_rate": 0.8},
    "scheduler": {"clinics_held": 11, "participations": 220, "sharers": 15, "feedback_rate": 0.25,
                  "useful_share": 0.7, "distinct_participants": 120,
                  "feedback_by_rating": {"5": 20, "4": 25, "3": 8, "2": 2}, "feedback_comments": 31,
                  "usefulness_by_topic": [{"topic": "budget-development", "feedback": 30, "useful_share": 0.8,
                                           "average_rating": 4.2}]},
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


def test_what_participants_said_and_usefulness_by_topic():
    report = build(STATS)
    assert report["feedback_by_rating"] == {"1": 0, "2": 2, "3": 8, "4": 25, "5": 20}
    assert report["feedback_comments"] == 31
    table = render_table(report)
    assert "What participants said" in table and "rated 5 of 5" in table and "wrote a comment" in table
    assert "Usefulness by topic" in table and "Budget development" in table and "80%" in table and "4.2" in table
    page = render_html(report, STATS)
    assert "What participants said" in page and "Usefulness by topic" in page
    empty = render_table(build({}))
    assert "(no feedback yet)" in empty and "rated 1 of 5" in empty
