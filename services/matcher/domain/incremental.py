"""Incremental mode: which sharers a new learner is offered, in order (pure)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from services.matcher.domain import blocks, joins
from services.matcher.domain.candidates import Edge
from services.matcher.domain.matches import sharer_of


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


@dataclass
class Surroundings:
    """What proposing to new learners needs beyond themselves, read once for a poll's learners and
    kept up to date with the proposals made from it (each proposal's write is still conditional on
    what was read, so a stale entry costs a retry, never a wrong proposal)."""
    sharers: dict[str, list[dict]]  # topic -> its active share interests
    block_docs: list[dict]  # the blocks involving one of the learners
    connected_docs: list[dict]  # the connections in their cooldown involving one of the learners
    loads: dict[str, int]  # sharer -> open connections, for those with a load document
    capacities: dict[str, int]  # sharer -> capacity, when set
    region_share: dict[str, float]
    openings: dict[tuple[str, str, str], list[dict]] = field(default_factory=dict)  # (topic, sharer, language) -> connections with a free seat
    interests: dict[str, dict] = field(default_factory=dict)  # interest key -> the members' interests

    @classmethod
    def of(cls, sharers: list[dict], block_docs: list[dict], connected_docs: list[dict], load_docs: dict[str, dict],
           region_share: dict[str, float], open_connections: list[dict], interests: dict[str, dict]) -> Surroundings:
        by_topic: dict[str, list[dict]] = {}
        for sharer in sharers:
            by_topic.setdefault(sharer["topic"], []).append(sharer)
        around = cls(by_topic, block_docs, connected_docs, {p: doc.get("open", 0) for p, doc in load_docs.items()},
                     {p: doc["capacity"] for p, doc in load_docs.items() if "capacity" in doc}, region_share,
                     interests=dict(interests))
        for match in open_connections:
            around._keep(match)
        return around

    def blocked(self, person: str, now: datetime) -> set[str]:
        return blocks.active([doc for doc in self.block_docs if person in doc["people"]], now)

    def connected(self, person: str) -> set[tuple[str, str]]:
        return {(doc["pair"], doc["topic"]) for doc in self.connected_docs if person in doc["people"]}

    def open_with(self, edge: Edge) -> list[dict]:
        """The sharer's connections on the learner's topic and the edge's language with a free seat."""
        return self.openings.get((edge.learner["topic"], edge.person, edge.language), [])

    def has_room(self, sharer: str, default_capacity: int) -> bool:
        return self.loads.get(sharer, 0) < self.capacities.get(sharer, default_capacity)

    def opened(self, match: dict, edge: Edge, load: int | None = None) -> None:
        """A new connection of the edge's sharer: one more of their connections taken (or `load`,
        their count as read after it), and the next learners may join it."""
        self.loads[edge.person] = load if load is not None else self.loads.get(edge.person, 0) + 1
        self.interests[edge.sharer["_id"]] = edge.sharer
        self.interests[edge.learner["_id"]] = edge.learner
        self._keep(match)

    def joined(self, match: dict, learner: dict) -> None:
        self.interests[learner["_id"]] = learner
        self.forget(match)
        self._keep(match)

    def forget(self, match: dict) -> None:
        """A connection that changed under us (someone joined, answered or left): not offered again."""
        for group in self.openings.values():
            group[:] = [m for m in group if m["_id"] != match["_id"]]

    def _keep(self, match: dict) -> None:
        if joins.room(match) > 0:
            self.openings.setdefault((match["topic"], sharer_of(match), match["language"]), []).append(match)
