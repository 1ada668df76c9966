"""The alerting rules and the Grafana dashboard ask only for series the code exports, with labels
those series have, in PromQL that parses; docker-compose provisions both."""
import json
from pathlib import Path

import promql_parser
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from shared import metrics

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
ALERTS = yaml.safe_load((DEPLOY / "alerts.yml").read_text())
DASHBOARD = json.loads((DEPLOY / "grafana" / "dashboards" / "letsconnect.json").read_text())
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PROMETHEUS_OWN = {"up": {"job", "instance"}}   # series Prometheus itself records for every target
TARGET_LABELS = {"job", "instance"}             # added by Prometheus to every scraped series


def exported() -> dict[str, set[str]]:
    """Every series name the code exports, with its label names."""
    series = {}
    for metric in vars(metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        labels = set(metric._labelnames)
        name = metric._name
        if metric._type == "counter":
            series[f"{name}_total"] = labels
        elif metric._type == "histogram":
            series[f"{name}_bucket"] = labels | {"le"}
            series[f"{name}_sum"] = series[f"{name}_count"] = labels
        else:
            series[name] = labels
    return series


def selectors(expr: str) -> list[tuple[str, set[str], set[str]]]:
    """(series, labels matched on, labels grouped by around it) of every selector in a query."""
    found, grouping = [], []

    def visit(node):
        if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
            grouping.extend(node.modifier.labels)
        if isinstance(node, promql_parser.VectorSelector):
            found.append((node.name, {matcher.name for matcher in node.matchers.matchers}))
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)  # raises ValueError on a syntax error
    return [(name, matched, set(grouping)) for name, matched in found]


def rules() -> list[dict]:
    return [rule for group in ALERTS["groups"] for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in DASHBOARD["panels"] for target in panel.get("targets", [])]


def check(expr: str, series: dict[str, set[str]]) -> None:
    known = {**series, **PROMETHEUS_OWN}
    for name, matched, grouped in selectors(expr):
        assert name in known, f"{name} is not exported by shared/metrics.py (in {expr})"
        assert matched <= known[name] | TARGET_LABELS, f"{name} has no label {matched - known[name]} (in {expr})"
    names = {name for name, _, _ in selectors(expr)}
    available = set().union(*(known[name] for name in names)) | TARGET_LABELS
    grouped = set().union(*(grouping for _, _, grouping in selectors(expr)))
    assert grouped <= available, f"grouping by {grouped - available}, which none of {names} has (in {expr})"


@pytest.mark.parametrize("rule", rules(), ids=lambda rule: rule["alert"])
def test_every_alert_uses_exported_series_and_says_what_to_do(rule):
    check(rule["expr"], exported())
    assert rule["labels"]["severity"] in ("warning", "critical")
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]


@pytest.mark.parametrize("expr", dashboard_queries())
def test_every_dashboard_query_uses_exported_series(expr):
    check(expr, exported())


def test_the_alerts_cover_lag_dead_letters_outbox_age_smtp_failures_and_5xx():
    watched = {name for rule in rules() for name, _, _ in selectors(rule["expr"])}
    for needed in ("lc_consumer_lag", "lc_events_dead_lettered_total", "lc_outbox_oldest_age_seconds",
                   "lc_outbox_age_seconds_bucket", "lc_notifier_smtp_attempts_total", "lc_http_requests_total",
                   "lc_event_age_seconds_bucket"):
        assert needed in watched, f"no alert on {needed}"


def test_the_dashboard_shows_every_latency_histogram_and_backlog():
    shown = {name for expr in dashboard_queries() for name, _, _ in selectors(expr)}
    histograms = {name for name in exported() if name.endswith("_bucket")}
    assert histograms <= shown
    assert {"lc_consumer_lag", "lc_outbox_backlog", "lc_outbox_oldest_age_seconds"} <= shown
    panel_ids = [panel["id"] for panel in DASHBOARD["panels"]]
    assert len(panel_ids) == len(set(panel_ids))


def test_prometheus_loads_the_rules_and_grafana_is_provisioned_with_the_dashboard():
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    mounts = COMPOSE["services"]["prometheus"]["volumes"]
    assert "/etc/prometheus/alerts.yml" in prometheus["rule_files"]
    assert "./deploy/alerts.yml:/etc/prometheus/alerts.yml:ro" in mounts

    grafana = COMPOSE["services"]["grafana"]
    mounted = dict(volume.split(":")[:2] for volume in grafana["volumes"])
    provisioning = DEPLOY / "grafana" / "provisioning"
    assert mounted["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    [provider] = yaml.safe_load((provisioning / "dashboards" / "letsconnect.yml").read_text())["providers"]
    dashboards_in_container = provider["options"]["path"]
    assert mounted["./deploy/grafana/dashboards"] == dashboards_in_container
    [source] = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090" and source["uid"] == "prometheus"
    for panel in DASHBOARD["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == source["uid"]


def test_gunicorn_apis_share_one_metrics_folder_so_a_scrape_sees_every_process():
    for name, container in COMPOSE["services"].items():
        if name.endswith("-api"):
            assert container["environment"]["PROMETHEUS_MULTIPROC_DIR"] in container["tmpfs"]
