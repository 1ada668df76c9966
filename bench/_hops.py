"""Per-hop latency from the services' own Prometheus histograms (the series an operator watches).

The benchmark scrapes every API's /metrics (under `letsconnect up` each service's API and worker
share one multiprocess metrics folder, so the worker's series are there too) before and after
its measured phase, and takes p50/p95 from the difference, interpolating inside buckets as
Prometheus' histogram_quantile does.
"""
from __future__ import annotations

import math
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Hop:
    label: str
    service: str        # whose /metrics holds the series
    metric: str         # histogram name without _bucket
    labels: dict


# The path of a learner's registration to its proposal email, in order. Each age is measured
# from the CloudEvents time of the event the hop handles, so the ages are cumulative per event.
PROPOSAL_HOPS = (
    Hop("registry relay: commit -> broker ack (skill-registered)", "registry", "lc_outbox_age_seconds",
        {"service": "registry"}),
    Hop("matcher: commit -> skill-registered applied, proposal written", "matcher", "lc_event_age_seconds",
        {"service": "matcher", "topic": "skill-registered"}),
    Hop("matcher relay: proposal commit -> broker ack (match-proposed)", "matcher", "lc_outbox_age_seconds",
        {"service": "matcher"}),
    Hop("notifier: proposal commit -> match-proposed applied (rendered)", "notifier", "lc_event_age_seconds",
        {"service": "notifier", "topic": "match-proposed"}),
    Hop("notifier: proposal commit -> SMTP relay accepted", "notifier", "lc_notifier_queue_age_seconds",
        {"template": "match_proposal"}),
)


def scrape(url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of a /metrics page: {(name, sorted labels): value}."""
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def buckets(samples: dict, metric: str, labels: dict) -> list[tuple[float, float]]:
    """Cumulative (upper bound, count) of one histogram series, summed over any other labels."""
    totals: dict[float, float] = {}
    for (name, sample_labels), value in samples.items():
        if name != f"{metric}_bucket":
            continue
        found = dict(sample_labels)
        if any(found.get(k) != v for k, v in labels.items()):
            continue
        bound = float(found["le"])
        totals[bound] = totals.get(bound, 0.0) + value
    return sorted(totals.items())


def difference(after: list[tuple[float, float]], before: list[tuple[float, float]]) -> list[tuple[float, float]]:
    earlier = dict(before)
    return [(bound, count - earlier.get(bound, 0.0)) for bound, count in after]


def quantile(cumulative: list[tuple[float, float]], share: float) -> float | None:
    """histogram_quantile: linear inside the bucket the rank falls in; None without observations."""
    if not cumulative or cumulative[-1][1] <= 0:
        return None
    total = cumulative[-1][1]
    rank = share * total
    lower_bound, lower_count = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound  # beyond the last finite bucket: its lower edge is all we know
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = bound, count
    return cumulative[-1][0]


def hop_figures(before: dict[str, dict], after: dict[str, dict], hops=PROPOSAL_HOPS) -> list[tuple[Hop, int, float | None, float | None]]:
    """(hop, observations, p50, p95) for each hop between two scrapes of every service."""
    rows = []
    for hop in hops:
        delta = difference(buckets(after[hop.service], hop.metric, hop.labels),
                           buckets(before[hop.service], hop.metric, hop.labels))
        count = int(delta[-1][1]) if delta else 0
        rows.append((hop, count, quantile(delta, 0.5), quantile(delta, 0.95)))
    return rows


def counter_increase(before: dict, after: dict, metric: str) -> float:
    def total(samples):
        return sum(value for (name, _), value in samples.items() if name == metric)

    return total(after) - total(before)


def format_hops(rows) -> list[str]:
    def seconds(value):
        return "   n/a" if value is None else f"{value:6.2f}"

    lines = ["per hop (from the services' histograms; cumulative from the event's time):"]
    for hop, count, p50, p95 in rows:
        lines.append(f"  {hop.label:<66} p50 {seconds(p50)} s  p95 {seconds(p95)} s  ({count} observed)")
    return lines
