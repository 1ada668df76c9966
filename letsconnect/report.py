"""`letsconnect report`: the program report, gathered from every service's /stats.

The figures are the ones the pilot's organisers wrote by hand ("140 Wikimedians registered;
11 learning clinics, around 220 participations; 25% give feedback, about 70% find it useful;
17 1:1 connections and cluster groups, around 40 participants; top skills people want to learn").
"""
from __future__ import annotations

import html
import json
from datetime import datetime, timezone

from shared.taxonomy import topic_label


def _share(value) -> float | None:
    return None if value is None else float(value)


def build(stats: dict[str, dict]) -> dict:
    """The report from each service's /stats (pure: easy to test, same numbers everywhere)."""
    registry = stats.get("registry", {})
    matcher = stats.get("matcher", {})
    scheduler = stats.get("scheduler", {})
    notifier = stats.get("notifier", {})
    resources = stats.get("resources", {})
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "registrations": registry.get("participants", 0),
        "affiliated_share": _share(registry.get("affiliated_share")),
        "by_region": registry.get("by_region", {}),
        "clinics_held": scheduler.get("clinics_held", 0),
        "participations": scheduler.get("participations", 0),
        "clinic_participants": scheduler.get("distinct_participants", 0),
        "sharers": scheduler.get("sharers", 0),
        "feedback_rate": _share(scheduler.get("feedback_rate")),
        "useful_share": _share(scheduler.get("useful_share")),
        # what participants said: answers by rating (1-5), how many wrote something, usefulness per topic
        "feedback_by_rating": {str(r): int((scheduler.get("feedback_by_rating") or {}).get(str(r), 0))
                               for r in range(1, 6)},
        "feedback_comments": scheduler.get("feedback_comments", 0),
        "usefulness_by_topic": [{"topic": row["topic"], "feedback": row["feedback"],
                                 "useful_share": _share(row.get("useful_share")),
                                 "average_rating": _share(row.get("average_rating"))}
                                for row in scheduler.get("usefulness_by_topic", [])],
        "connections": matcher.get("confirmed", 0) + matcher.get("completed", 0),
        "connections_completed": matcher.get("completed", 0),
        "people_connected": matcher.get("participants_connected", 0),
        "acceptance_rate": _share(matcher.get("acceptance_rate")),
        "top_learn": [t["topic"] for t in registry.get("top_learn", [])][:5],
        "top_share": [t["topic"] for t in registry.get("top_share", [])][:5],
        "messages_sent": notifier.get("sent", 0),
        "first_language_share": _share(notifier.get("first_language_share")),
        "resources": resources.get("resources", resources.get("total", 0)),
    }


def gather(platform) -> dict:
    return build({service: platform.stats(service) for service in platform.urls})


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def rows(report: dict) -> list[tuple[str, str]]:
    return [
        ("Wikimedians registered", str(report["registrations"])),
        ("share affiliated", _pct(report["affiliated_share"])),
        ("learning clinics held", str(report["clinics_held"])),
        ("clinic participations", str(report["participations"])),
        ("sharers presenting", str(report["sharers"])),
        ("gave feedback", _pct(report["feedback_rate"])),
        ("found it useful", _pct(report["useful_share"])),
        ("1:1 connections and cluster groups", str(report["connections"])),
        ("people in those connections", str(report["people_connected"])),
        ("proposals accepted", _pct(report["acceptance_rate"])),
        ("messages sent", str(report["messages_sent"])),
        ("in the recipient's own language", _pct(report["first_language_share"])),
        ("resources in the resource space", str(report["resources"])),
    ]


def said_rows(report: dict) -> list[tuple[str, str]]:
    """What participants said: answers by rating, the share useful, how many wrote a comment."""
    ratings = report["feedback_by_rating"]
    return [(f"rated {rating} of 5", str(ratings[str(rating)])) for rating in range(5, 0, -1)] + [
        ("found it useful", _pct(report["useful_share"])), ("wrote a comment", str(report["feedback_comments"]))]


def topic_rows(report: dict) -> list[tuple[str, str, str, str]]:
    return [(topic_label(row["topic"]), str(row["feedback"]), _pct(row["useful_share"]),
             "n/a" if row["average_rating"] is None else f"{row['average_rating']:.1f}")
            for row in report["usefulness_by_topic"]]


def render_table(report: dict) -> str:
    width = max(len(label) for label, _ in rows(report))
    lines = ["Let's Connect: program report", "=" * (width + 12)]
    lines += [f"{label:<{width}}  {value:>8}" for label, value in rows(report)]
    lines += ["", "What participants said"]
    lines += [f"  {label:<{width - 2}}  {value:>8}" for label, value in said_rows(report)]
    lines += ["", "Usefulness by topic (answers, useful, average rating)"]
    lines += [f"  {name[:60]:<60}  {count:>5}  {useful:>6}  {rating:>4}"
              for name, count, useful, rating in topic_rows(report)] or ["  (no feedback yet)"]
    for title, key in (("Top skills people want to learn", "top_learn"), ("Top skills people share", "top_share")):
        lines += ["", title]
        lines += [f"  {rank}. {topic_label(code)}" for rank, code in enumerate(report[key], start=1)] or ["  (none yet)"]
    return "\n".join(lines)


def _bar_chart(title: str, values: dict[str, float]) -> str:
    """A static SVG bar chart (no script, no network)."""
    if not values:
        return f"<h2>{html.escape(title)}</h2><p>No data yet.</p>"
    top = max(values.values()) or 1
    bar_height, label_width, chart_width = 24, 260, 360
    parts = [f'<svg role="img" aria-label="{html.escape(title)}" width="{label_width + chart_width + 60}" '
             f'height="{bar_height * len(values) + 10}" xmlns="http://www.w3.org/2000/svg">']
    for index, (name, value) in enumerate(values.items()):
        y = index * bar_height + 5
        width = max(2, int(chart_width * value / top))
        parts.append(f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" font-size="13">'
                     f'{html.escape(name)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="{bar_height - 8}" fill="#36c"/>')
        parts.append(f'<text x="{label_width + width + 6}" y="{y + 16}" font-size="13">{value:g}</text>')
    parts.append("</svg>")
    return f"<h2>{html.escape(title)}</h2>" + "".join(parts)


def render_html(report: dict, stats: dict[str, dict] | None = None) -> str:
    stats = stats or {}
    table = "".join(f"<tr><th scope='row'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                    for label, value in rows(report))
    said = "".join(f"<tr><th scope='row'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
                   for label, value in said_rows(report))
    topics = "".join(f"<tr><th scope='row'>{html.escape(name)}</th><td>{count}</td><td>{useful}</td><td>{rating}</td></tr>"
                     for name, count, useful, rating in topic_rows(report))
    learn = {topic_label(t["topic"]): t["count"] for t in stats.get("registry", {}).get("top_learn", [])}
    share = {topic_label(t["topic"]): t["count"] for t in stats.get("registry", {}).get("top_share", [])}
    regions = {k.upper(): v for k, v in report["by_region"].items()}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Let's Connect: program report</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}th{{text-align:left;padding-right:2em}}
td{{text-align:right}}</style></head><body>
<h1>Let's Connect: program report</h1>
<p>Generated {html.escape(report["generated_at"])} from each service's /stats.</p>
<table>{table}</table>
<h2>What participants said</h2>
<table>{said}</table>
<h2>Usefulness by topic</h2>
<table><tr><th scope="col">topic</th><td>answers</td><td>useful</td><td>average rating</td></tr>{topics}</table>
{_bar_chart("Top skills people want to learn", learn)}
{_bar_chart("Top skills people share", share)}
{_bar_chart("Registrations by region", regions)}
<script type="application/json" id="report-data">{html.escape(json.dumps(report))}</script>
</body></html>
"""
