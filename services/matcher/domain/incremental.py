"""Incremental mode: which sharers a new learner is offered, in order (pure)."""
from __future__ import annotations

from services.matcher.domain.candidates import Edge


def ranked(edges: list[Edge], threshold: float) -> list[Edge]:
    """The learner's feasible edges worth proposing (at least `threshold`), best first; each may
    join an open connection of its sharer, or open a new one if the sharer has room."""
    return [edge for edge in sorted(edges, key=lambda e: (-e.score, e.bucket)) if edge.score >= threshold]


def options(edges: list[Edge], loads: dict[str, int], capacities: dict[str, int], default_capacity: int,
            threshold: float) -> list[Edge]:
    """The learner's feasible edges worth proposing, best first: at least `threshold`, with a
    sharer who still has a free connection."""
    ranked = sorted(edges, key=lambda e: (-e.score, e.bucket))
    return [edge for edge in ranked if edge.score >= threshold
            and loads.get(edge.person, 0) < capacities.get(edge.person, default_capacity)]


def region_share(regions: list[str]) -> dict[str, float]:
    """Each region's share of the active sharers (the score's rare-sharer term)."""
    counts: dict[str, int] = {}
    for region in regions:
        counts[region] = counts.get(region, 0) + 1
    total = sum(counts.values()) or 1
    return {region: count / total for region, count in counts.items()}
