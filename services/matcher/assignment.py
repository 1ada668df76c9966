"""Rounds: a maximum-total-score assignment of learners to sharers under every hard rule and
capacity, by min-cost flow (OR-Tools), then grouping into connections of at most four people.

Graph: source -> each learn interest (capacity 1) -> each feasible share interest of the same
topic (cost = -score) -> the sharer as a person (capacity = free connections) -> sink; every
learner may also flow to the sink unmatched at cost 0, so nobody is forced into a poor match.
Each learner keeps its best `candidates_per_learner` feasible sharers (by score): the result is
optimal over that graph. Same input, same output: nodes and arcs are added in sorted order.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from ortools.graph.python import min_cost_flow

from services.matcher.rules import MAX_LEARNERS, common_languages, violation
from services.matcher.scoring import score

SCALE = 1000  # scores are floats; the solver takes integers


@dataclass
class Edge:
    learner: dict
    sharer: dict
    score: float
    language: str
    reasons: list[str]
    codes: list[str]


@dataclass
class RoundResult:
    connections: list[dict] = field(default_factory=list)  # {sharer, learners: [edge], language, topic}
    unmatched: list[dict] = field(default_factory=list)  # {learner, reason}
    total_score: float = 0.0


def _interest_id(candidate: dict) -> str:
    return f"{candidate['participant_id']}:{candidate['topic']}:{candidate['direction']}"


def feasible_edges(learners: list[dict], sharers: list[dict], *, blocked: set[str], connected: set,
                   loads: dict[str, int], region_share: dict[str, float], config, on: date,
                   now: datetime | None = None) -> tuple[list[Edge], dict[str, str]]:
    """Scored feasible pairs (best few per learner) and, for learners with none, why."""
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for sharer in sharers:
        by_topic[sharer["topic"]].append(sharer)
    edges, why = [], {}
    for learner in learners:
        candidates, reasons = [], set()
        for sharer in by_topic.get(learner["topic"], []):
            broken = violation(learner, sharer, blocked, connected, on, config.day_start_hour, config.day_end_hour,
                               config.min_overlap_minutes)
            if broken:
                reasons.add(broken)
                continue
            value, language, text, codes = score(
                learner, sharer, config.weights, on, now, loads.get(sharer["participant_id"], 0),
                region_share.get(sharer["region"], 0.0), config.day_start_hour, config.day_end_hour, explain=False)
            candidates.append(Edge(learner, sharer, value, language, text, codes))
        if not candidates:
            why[_interest_id(learner)] = _main_reason(learner, reasons)
        candidates.sort(key=lambda e: (-e.score, e.sharer["participant_id"]))
        edges.extend(candidates[:config.candidates_per_learner])
    return edges, why


def explain(edges: list[Edge], *, loads: dict[str, int], region_share: dict[str, float], config, on: date,
            now: datetime | None = None) -> list[Edge]:
    """Fill in the reasons (words and codes) of the edges that were chosen."""
    for edge in edges:
        _, _, edge.reasons, edge.codes = score(
            edge.learner, edge.sharer, config.weights, on, now, loads.get(edge.sharer["participant_id"], 0),
            region_share.get(edge.sharer["region"], 0.0), config.day_start_hour, config.day_end_hour)
    return edges


def _main_reason(learner: dict, reasons: set[str]) -> str:
    if not reasons:
        return "no_sharer_for_topic"
    for code in ("no_common_language", "no_time_overlap", "same_group", "declined_before", "already_connected",
                 "same_person"):
        if code in reasons:
            return code
    return sorted(reasons)[0]


def optimal(learners: list[dict], edges: list[Edge], free: dict[str, int]) -> list[Edge]:
    """The maximum-total-score set of edges: each learner at most once, each sharer within `free`."""
    learner_ids = sorted({_interest_id(l) for l in learners})
    sharer_people = sorted({e.sharer["participant_id"] for e in edges})
    node = {}
    for name in ["source", "sink"] + [f"L:{i}" for i in learner_ids] + [f"P:{p}" for p in sharer_people]:
        node[name] = len(node)
    share_nodes = {}
    flow = min_cost_flow.SimpleMinCostFlow()
    for learner_id in learner_ids:
        flow.add_arc_with_capacity_and_unit_cost(node["source"], node[f"L:{learner_id}"], 1, 0)
        flow.add_arc_with_capacity_and_unit_cost(node[f"L:{learner_id}"], node["sink"], 1, 0)
    arcs = {}
    for edge in sorted(edges, key=lambda e: (_interest_id(e.learner), _interest_id(e.sharer))):
        key = _interest_id(edge.sharer)
        if key not in share_nodes:
            share_nodes[key] = len(node) + len(share_nodes)
        arc = flow.add_arc_with_capacity_and_unit_cost(
            node[f"L:{_interest_id(edge.learner)}"], share_nodes[key], 1, -int(round(edge.score * SCALE)))
        arcs[arc] = edge
    share_to_person = {}
    for edge in edges:
        share_to_person[_interest_id(edge.sharer)] = edge.sharer["participant_id"]
    for key in sorted(share_nodes):
        flow.add_arc_with_capacity_and_unit_cost(share_nodes[key], node[f"P:{share_to_person[key]}"], MAX_LEARNERS * 10, 0)
    for person in sharer_people:
        # A connection seats up to three learners: grouping (and trimming) turns learners into connections.
        flow.add_arc_with_capacity_and_unit_cost(node[f"P:{person}"], node["sink"],
                                                 max(0, free.get(person, 0)) * MAX_LEARNERS, 0)
    flow.set_node_supply(node["source"], len(learner_ids))
    flow.set_node_supply(node["sink"], -len(learner_ids))
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow did not solve: status {status}")
    chosen = [edge for arc, edge in arcs.items() if flow.flow(arc) > 0]
    return sorted(chosen, key=lambda e: (_interest_id(e.sharer), _interest_id(e.learner)))


def greedy(learners: list[dict], edges: list[Edge], free: dict[str, int]) -> list[Edge]:
    """Baseline: best remaining pair first."""
    left = {person: n * MAX_LEARNERS for person, n in free.items()}
    taken, chosen = set(), []
    for edge in sorted(edges, key=lambda e: (-e.score, _interest_id(e.learner), _interest_id(e.sharer))):
        learner_id, person = _interest_id(edge.learner), edge.sharer["participant_id"]
        if learner_id in taken or left.get(person, 0) <= 0:
            continue
        taken.add(learner_id)
        left[person] -= 1
        chosen.append(edge)
    return chosen


def group(chosen: list[Edge]) -> list[dict]:
    """Learners of one topic and language with the same sharer become one connection (<= 4 people)."""
    buckets: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in chosen:
        buckets[(_interest_id(edge.sharer), edge.language)].append(edge)
    connections = []
    for (_share_id, language), members in sorted(buckets.items()):
        for start in range(0, len(members), MAX_LEARNERS):
            chunk = members[start:start + MAX_LEARNERS]
            connections.append({"sharer": chunk[0].sharer, "topic": chunk[0].sharer["topic"], "language": language,
                                "learners": chunk})
    return connections


def _within_capacity(connections: list[dict], free: dict[str, int]) -> list[dict]:
    """A sharer with learners in several topics or languages keeps its best `free` connections."""
    by_person: dict[str, list[dict]] = defaultdict(list)
    for connection in connections:
        by_person[connection["sharer"]["participant_id"]].append(connection)
    kept = []
    for person, theirs in sorted(by_person.items()):
        theirs.sort(key=lambda c: (-sum(e.score for e in c["learners"]), _interest_id(c["sharer"]), c["language"]))
        kept.extend(theirs[:max(0, free.get(person, 0))])
    return kept


def _fill_groups(connections: list[dict], edges: list[Edge], matched: set[str]) -> list[Edge]:
    """Seat learners left out for capacity in a connection that has room (it costs no capacity)."""
    open_groups = {(_interest_id(c["sharer"]), c["language"]): c for c in connections
                   if len(c["learners"]) < MAX_LEARNERS}
    added = []
    for edge in sorted(edges, key=lambda e: (-e.score, _interest_id(e.learner))):
        key = (_interest_id(edge.sharer), edge.language)
        learner_id = _interest_id(edge.learner)
        connection = open_groups.get(key)
        if learner_id in matched or connection is None or len(connection["learners"]) >= MAX_LEARNERS:
            continue
        connection["learners"].append(edge)
        matched.add(learner_id)
        added.append(edge)
    return added


def plan_round(learners: list[dict], sharers: list[dict], *, blocked: set[str], connected: set,
               loads: dict[str, int], capacities: dict[str, int], region_share: dict[str, float], config,
               on: date, now: datetime | None = None, solver=optimal) -> RoundResult:
    edges, why = feasible_edges(learners, sharers, blocked=blocked, connected=connected, loads=loads,
                                region_share=region_share, config=config, on=on, now=now)
    free = {person: capacities.get(person, config.sharer_capacity) - loads.get(person, 0)
            for person in {s["participant_id"] for s in sharers}}
    chosen = solver(learners, edges, free)
    connections = _within_capacity(group(chosen), free)
    chosen = [edge for connection in connections for edge in connection["learners"]]
    chosen += _fill_groups(connections, edges, {_interest_id(e.learner) for e in chosen})
    explain(chosen, loads=loads, region_share=region_share, config=config, on=on, now=now)
    result = RoundResult(connections=connections, total_score=round(sum(e.score for e in chosen), 4))
    matched = {_interest_id(e.learner) for e in chosen}
    for learner in learners:
        key = _interest_id(learner)
        if key not in matched:
            result.unmatched.append({"learner": learner, "reason": why.get(key, "capacity")})
    return result


__all__ = ["Edge", "RoundResult", "common_languages", "feasible_edges", "greedy", "group", "optimal", "plan_round"]
