"""Rounds: a maximum-total-score assignment of learners to sharers under every hard rule and
capacity, then grouping into connections of at most four people (pure functions, no I/O).

The exact problem: pick learner -> (share interest, language) edges, each learner at most once,
so that every sharer's learners fit in at most `free` connections, a connection being up to three
learners of one share interest (topic) and one language. A connection counts once whatever its
size, which makes this an integer program. Each connected part of the candidate graph (in
practice: a topic) is solved on its own:

1. Min-cost flow (OR-Tools): source -> learn interest (1) -> bucket = share interest x language
   (cost -score) -> sharer (3 seats per free connection) -> sink, and learn interest -> sink at
   cost 0 so nobody is forced into a poor match. This is the integer program's LP relaxation, so
   its total is an upper bound (`bound`) on any plan that keeps the rules. When every sharer's
   learners fit its connections, the flow is the optimum: proven.
2. Otherwise (a sharer's learners span more topics or languages than it has connections), those
   sharers get their connections fixed to the buckets worth the most, the flow is solved again,
   remaining over-full sharers keep their best connections, and free seats are filled best first.
3. Parts small enough (LC_MATCHER_EXACT_EDGES) are then solved exactly by CP-SAT, starting from
   that plan: proven optimal when it finishes in its (deterministic) budget.
4. A greedy plan is computed too, and the better one kept: a round never scores below greedy.

Learners of one bucket are then grouped into connections of up to three learners. Each learner
keeps its best `candidates_per_learner` feasible sharers. Same input, same output: everything is
built in sorted order and CP-SAT runs single-threaded on a deterministic time budget.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice

import numpy as np
from ortools.graph.python import min_cost_flow
from ortools.sat.python import cp_model
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from services.matcher.domain import joins
from services.matcher.domain.candidates import Edge, feasible_edges, interest_key
from services.matcher.domain.matches import sharer_of
from services.matcher.domain.rules import MAX_LEARNERS
from services.matcher.domain.scoring import score

SCALE = 10_000  # scores have four decimals; the solvers take integers
REPAIR_PASSES = 2
EXACT_BUDGET = 1.0  # CP-SAT deterministic time per part (about a second)
MAX_ALLOCATIONS = 4096  # ways to share out one sharer's connections tried in a repair


@dataclass
class Assignment:
    edges: list[Edge]
    load_step: float = 0.5
    bound: float | None = None  # the LP relaxation's objective: no plan can do better
    proven: bool = False  # the plan is optimal (it meets the bound, or CP-SAT proved it)
    methods: dict = field(default_factory=dict)  # how many parts each method settled

    @property
    def total(self) -> float:
        return objective(self.edges, self.load_step)


@dataclass
class RoundResult:
    connections: list[dict] = field(default_factory=list)  # {sharer, learners: [edge], language, topic}
    unmatched: list[dict] = field(default_factory=list)  # {learner, reason}
    total_score: float = 0.0
    bound: float | None = None
    proven: bool = False
    methods: dict = field(default_factory=dict)


def explain(edges: list[Edge], *, loads: dict[str, int], region_share: dict[str, float], config, on: date,
            now: datetime | None = None) -> list[Edge]:
    """Fill in the reasons (words and codes) of the edges that were chosen."""
    for edge in edges:
        _, _, edge.reasons, edge.codes = score(
            edge.learner, edge.sharer, config.weights, on, now, loads.get(edge.sharer["participant_id"], 0),
            region_share.get(edge.sharer["region"], 0.0), config.day_start_hour, config.day_end_hour,
            language=edge.language)
    return edges


def _connections_needed(edges: list[Edge]) -> int:
    sizes: dict[tuple[str, str], int] = defaultdict(int)
    seats: dict[tuple[str, str], int] = {}
    for edge in edges:
        sizes[edge.bucket] += 1
        seats[edge.bucket] = edge.seats
    return sum(-(-n // seats[bucket]) for bucket, n in sizes.items())


class _Graph:
    """One part's edges as arrays, so that each flow is built with a few numpy calls."""

    def __init__(self, edges: list[Edge], free: dict[str, int], load_step: float):
        self.edges = edges
        self.learners = sorted({e.learner_key for e in edges})
        self.buckets = sorted({e.bucket for e in edges})
        self.people = sorted({e.person for e in edges})
        learner_index = {key: i for i, key in enumerate(self.learners)}
        bucket_index = {bucket: i for i, bucket in enumerate(self.buckets)}
        person_index = {person: i for i, person in enumerate(self.people)}
        self.edge_learner = np.array([learner_index[e.learner_key] for e in edges], dtype=np.int32)
        self.edge_bucket = np.array([bucket_index[e.bucket] for e in edges], dtype=np.int32)
        self.edge_cost = np.array([-int(round(e.score * SCALE)) for e in edges], dtype=np.int64)
        person_of_bucket = {e.bucket: e.person for e in edges}
        seats_of_bucket = {e.bucket: e.seats for e in edges}
        self.bucket_seats = np.array([seats_of_bucket[b] for b in self.buckets], dtype=np.int64)
        self.bucket_person = np.array([person_index[person_of_bucket[b]] for b in self.buckets], dtype=np.int32)
        self.connections = np.array([max(0, free.get(p, 0)) for p in self.people], dtype=np.int64)
        self.step_cost = int(round(load_step * SCALE))
        self.bucket_index, self.person_index = bucket_index, person_index

    def solve(self, fixed: dict[str, dict[tuple[str, str], int]]) -> tuple[list[Edge], float]:
        """One min-cost flow: the best edges with 3 seats per free connection (per fixed bucket for
        fixed sharers), the k-th three seats of a sharer costing k load steps each. Returns the
        chosen edges and their objective."""
        n_learners, n_buckets, n_people = len(self.learners), len(self.buckets), len(self.people)
        source, sink, first_learner = 0, 1, 2
        first_bucket = first_learner + n_learners
        first_person = first_bucket + n_buckets
        seats = self.connections[self.bucket_person] * self.bucket_seats  # per bucket: all of its sharer's seats
        connections = self.connections.copy()
        for person, buckets in fixed.items():
            index = self.person_index[person]
            seats[self.bucket_person == index] = 0
            connections[index] = sum(buckets.values())
            for bucket, count in buckets.items():
                seats[self.bucket_index[bucket]] = count * self.bucket_seats[self.bucket_index[bucket]]
        used = np.flatnonzero(seats[self.edge_bucket] > 0)
        flow = min_cost_flow.SimpleMinCostFlow()
        learners = np.arange(n_learners, dtype=np.int32) + first_learner
        ones, zeros = np.ones(n_learners, dtype=np.int64), np.zeros(n_learners, dtype=np.int64)
        flow.add_arcs_with_capacity_and_unit_cost(np.full(n_learners, source), learners, ones, zeros)
        flow.add_arcs_with_capacity_and_unit_cost(learners, np.full(n_learners, sink), ones, zeros)
        edge_arcs = flow.add_arcs_with_capacity_and_unit_cost(
            self.edge_learner[used] + first_learner, self.edge_bucket[used] + first_bucket,
            np.ones(used.size, dtype=np.int64), self.edge_cost[used])
        open_buckets = np.flatnonzero(seats > 0).astype(np.int32)
        flow.add_arcs_with_capacity_and_unit_cost(open_buckets + first_bucket,
                                                  self.bucket_person[open_buckets] + first_person,
                                                  seats[open_buckets], np.zeros(open_buckets.size, dtype=np.int64))
        # A sharer's seats in blocks of three, block k costing k steps a learner: convex, so the
        # flow fills the cheap blocks first and the load spreads when scores are close.
        people = np.repeat(np.arange(n_people, dtype=np.int32), connections)
        block = np.concatenate([np.arange(n, dtype=np.int64) for n in connections]) if n_people else people
        flow.add_arcs_with_capacity_and_unit_cost(people + first_person, np.full(people.size, sink),
                                                  np.full(people.size, MAX_LEARNERS, dtype=np.int64),
                                                  block * self.step_cost)
        supplies = np.zeros(first_person + n_people, dtype=np.int64)
        supplies[source], supplies[sink] = n_learners, -n_learners
        flow.set_nodes_supplies(np.arange(supplies.size, dtype=np.int32), supplies)
        status = flow.solve()
        if status != flow.OPTIMAL:
            raise RuntimeError(f"min-cost flow did not solve: status {status}")
        carried = flow.flows(edge_arcs) > 0
        return [self.edges[i] for i in used[carried]], -flow.optimal_cost() / SCALE


def _allocations(sizes: list[int], free: int):
    """Every way to give at most `free` connections to buckets needing `sizes` connections each."""
    if not sizes:
        yield ()
        return
    for count in range(min(sizes[0], free), -1, -1):
        for rest in _allocations(sizes[1:], free - count):
            yield (count, *rest)


def _fix_connections(learners: list[str], options: dict[str, dict[tuple[str, str], float]], free: int,
                     elsewhere: dict[str, float]) -> dict[tuple[str, str], int]:
    """A sharer's `free` connections, given to the buckets where they are worth the most.

    `learners` are the ones the flow gave this sharer, `options` their scores per bucket of this
    sharer, `elsewhere` their best score with another sharer. Each way of sharing out the
    connections is valued by seating the learners with the most to gain first; a learner left
    out counts with its score elsewhere (so learners with no other option are kept first)."""
    buckets = sorted({bucket for key in learners for bucket in options[key]})
    wanted = defaultdict(int)
    for key in learners:
        for bucket in options[key]:
            wanted[bucket] += 1
    sizes = [-(-wanted[b] // MAX_LEARNERS) for b in buckets]
    gains = sorted((-(score_ - elsewhere.get(key, 0.0)), key, bucket)
                   for key in learners for bucket, score_ in options[key].items())
    best, best_value = (), None
    for allocation in islice(_allocations(sizes, max(0, free)), MAX_ALLOCATIONS):
        seats = {bucket: count * MAX_LEARNERS for bucket, count in zip(buckets, allocation)}
        seated, value = set(), 0.0
        for gain, key, bucket in gains:
            if gain < 0 and key not in seated and seats.get(bucket, 0) > 0:
                seated.add(key)
                seats[bucket] -= 1
                value += options[key][bucket]
        value += sum(elsewhere.get(key, 0.0) for key in learners if key not in seated)
        if best_value is None or value > best_value + 1e-9:
            best, best_value = allocation, value
    return {bucket: count for bucket, count in zip(buckets, best) if count}


def _best_elsewhere(edges: list[Edge]) -> dict[str, list]:
    """Per learner: its best score, with whom, and its best score with anyone else (see _elsewhere)."""
    top: dict[str, list] = {}  # learner -> [best score, its sharer, best score with another sharer]
    for edge in edges:
        entry = top.setdefault(edge.learner_key, [0.0, None, 0.0])
        if edge.person == entry[1]:
            entry[0] = max(entry[0], edge.score)
        elif edge.score > entry[0]:
            entry[:] = [edge.score, edge.person, entry[0]]
        elif edge.score > entry[2]:
            entry[2] = edge.score
    return top


def _elsewhere(top: dict[str, list], key: str, person: str) -> float:
    best, best_person, second = top.get(key, (0.0, None, 0.0))
    return second if person == best_person else best


def parts(edges: list[Edge]) -> list[list[Edge]]:
    """The connected parts of the candidate graph (learners and sharers linked by edges)."""
    if not edges:
        return []
    learners = {key: i for i, key in enumerate(sorted({e.learner_key for e in edges}))}
    people = {person: i + len(learners) for i, person in enumerate(sorted({e.person for e in edges}))}
    rows = np.array([learners[e.learner_key] for e in edges])
    columns = np.array([people[e.person] for e in edges])
    size = len(learners) + len(people)
    graph = coo_matrix((np.ones(len(edges)), (rows, columns)), shape=(size, size))
    _, labels = connected_components(graph, directed=False)
    grouped: dict[int, list[Edge]] = defaultdict(list)
    for edge, label in zip(edges, labels[rows]):
        grouped[int(label)].append(edge)
    # labels follow the sorted learner keys, so the parts come in a stable order
    return [sorted(grouped[label], key=lambda e: (e.learner_key, e.bucket)) for label in sorted(grouped)]


def _repaired_flow(edges: list[Edge], free: dict[str, int], load_step: float) -> tuple[list[Edge], float, bool]:
    """Steps 1-2 on one part: (chosen edges, LP bound, whether the first flow was already feasible)."""
    graph = _Graph(edges, free, load_step)
    fixed: dict[str, dict[tuple[str, str], int]] = {}
    elsewhere: dict[str, list] = {}
    options: dict[str, dict[str, dict[tuple[str, str], float]]] = defaultdict(lambda: defaultdict(dict))
    bound = None
    for passes in range(1, REPAIR_PASSES + 1):
        chosen, total = graph.solve(fixed)
        bound = total if bound is None else bound
        members: dict[str, list[Edge]] = defaultdict(list)
        for edge in chosen:
            members[edge.person].append(edge)
        over = {person: theirs for person, theirs in members.items()
                if person not in fixed and _connections_needed(theirs) > free.get(person, 0)}
        if not over:
            if passes == 1:
                return chosen, bound, True
            break
        if passes == REPAIR_PASSES:  # the over-full sharers keep their best connections
            chosen = _trim(chosen, over, free)
            break
        if not elsewhere:
            elsewhere = _best_elsewhere(edges)
            for edge in edges:
                options[edge.person][edge.learner_key][edge.bucket] = edge.score
        current = {edge.learner_key: edge for edge in chosen}
        for person in sorted(over):
            # Everyone who could join this sharer competes for its connections: a learner the flow
            # gave it would fall back to its best other sharer, the others keep what they have.
            keys = sorted(options[person])
            fallback = {}
            for key in keys:
                now_with = current.get(key)
                if now_with is None:
                    fallback[key] = 0.0
                elif now_with.person == person:
                    fallback[key] = _elsewhere(elsewhere, key, person)
                else:
                    fallback[key] = now_with.score
            fixed[person] = _fix_connections(keys, options[person], free.get(person, 0), fallback)
    return _fill(chosen, edges, free, load_step), bound, False


def _exact(edges: list[Edge], free: dict[str, int], load_step: float, hint: list[Edge],
           budget: float) -> tuple[list[Edge], bool]:
    """CP-SAT on one part: x(edge) in {0, 1}, n(bucket) connections; each learner at most once,
    3 n(bucket) seats per bucket, sum of n per sharer within its free connections; the objective
    is `objective` below (t(sharer, k) >= its learners - 3k is the k-th load step)."""
    model = cp_model.CpModel()
    variables = [model.new_bool_var(f"e{i}") for i in range(len(edges))]
    by_learner: dict[str, list] = defaultdict(list)
    by_bucket: dict[tuple[str, str], list] = defaultdict(list)
    for var, edge in zip(variables, edges):
        by_learner[edge.learner_key].append(var)
        by_bucket[edge.bucket].append(var)
    person_of = {edge.bucket: edge.person for edge in edges}
    seats_of = {edge.bucket: edge.seats for edge in edges}
    counts: dict[str, list] = defaultdict(list)
    for bucket, members in sorted(by_bucket.items()):
        person = person_of[bucket]
        most = max(0, min(free.get(person, 0), -(-len(members) // seats_of[bucket])))
        count = model.new_int_var(0, most, f"n{len(counts)}")
        model.add(sum(members) <= seats_of[bucket] * count)
        counts[person].append(count)
    for person, theirs in sorted(counts.items()):
        model.add(sum(theirs) <= max(0, free.get(person, 0)))
    for _, theirs in sorted(by_learner.items()):
        model.add_at_most_one(theirs)
    learners_of: dict[str, list] = defaultdict(list)
    for var, edge in zip(variables, edges):
        learners_of[edge.person].append(var)
    steps = []
    for person, theirs in sorted(learners_of.items()):
        for k in range(1, max(0, free.get(person, 0))):
            step = model.new_int_var(0, MAX_LEARNERS * max(0, free.get(person, 0)), f"t{len(steps)}")
            model.add(step >= sum(theirs) - MAX_LEARNERS * k)
            steps.append(step)
    model.maximize(sum(int(round(edge.score * SCALE)) * var for var, edge in zip(variables, edges))
                   - int(round(load_step * SCALE)) * sum(steps))
    hinted = {id(edge) for edge in hint}
    for var, edge in zip(variables, edges):
        model.add_hint(var, id(edge) in hinted)
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_deterministic_time = budget
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint, False
    return [edge for var, edge in zip(variables, edges) if solver.value(var)], status == cp_model.OPTIMAL


def optimal(learners: list[dict], edges: list[Edge], free: dict[str, int], load_step: float = 0.5,
            exact_edges: int = 1500) -> Assignment:
    """The plan of steps 1-4 above, part by part, maximising `objective`."""
    chosen: list[Edge] = []
    bound, proven = 0.0, True
    methods: dict[str, int] = defaultdict(int)
    for part in parts(edges):
        plan, part_bound, feasible = _repaired_flow(part, free, load_step)
        bound += part_bound
        method, part_proven = ("flow", True) if feasible else ("flow+repair", False)
        if not feasible and len(part) <= exact_edges:
            exact_plan, part_proven = _exact(part, free, load_step, plan, EXACT_BUDGET)
            if objective(exact_plan, load_step) > objective(plan, load_step):
                plan, method = exact_plan, "cp-sat"
            elif part_proven:
                method = "cp-sat"
        baseline = greedy(learners, part, free, load_step).edges
        if objective(baseline, load_step) > objective(plan, load_step) + 1e-9:
            plan, method, part_proven = baseline, "greedy", False
        methods[method] += 1
        proven = proven and part_proven
        chosen.extend(plan)
    return Assignment(sorted(chosen, key=lambda e: (e.bucket, e.learner_key)), load_step, round(bound, 4), proven,
                      dict(methods))


def objective(edges: list[Edge], load_step: float) -> float:
    """What a round maximises: the chosen edges' scores, less one load step for each learner a
    sharer takes beyond its first three, two beyond its first six, and so on (the round's own
    share of the score's load term: the fourth learner of a sharer counts 0.5 less by default)."""
    taken: dict[str, int] = defaultdict(int)
    for edge in edges:
        taken[edge.person] += 1
    steps = sum(max(0, n - MAX_LEARNERS * k) for n in taken.values() for k in range(1, -(-n // MAX_LEARNERS)))
    return round(sum(e.score for e in edges) - load_step * steps, 4)


def _fill(chosen: list[Edge], edges: list[Edge], free: dict[str, int], load_step: float) -> list[Edge]:
    """Seat learners left without a sharer where there is still room: a free seat in a connection,
    or a sharer's unused connection (best edge first)."""
    seats: dict[tuple[str, str], int] = defaultdict(int)
    used: dict[str, int] = defaultdict(int)
    bucket_person = {edge.bucket: edge.person for edge in chosen}
    size = {edge.bucket: edge.seats for edge in chosen}
    for edge in chosen:
        seats[edge.bucket] += 1
    for bucket, count in list(seats.items()):
        seats[bucket] = -count % size[bucket]
        used[bucket_person[bucket]] += -(-count // size[bucket])
    return _greedy_into(chosen, edges, free, seats, used, load_step)


def _trim(chosen: list[Edge], over: dict[str, list[Edge]], free: dict[str, int]) -> list[Edge]:
    """Drop the learners of over-full sharers beyond their best `free` connections."""
    dropped = set()
    for person, theirs in over.items():
        by_bucket: dict[tuple[str, str], list[Edge]] = defaultdict(list)
        for edge in theirs:
            by_bucket[edge.bucket].append(edge)
        seats = []
        for bucket, members in by_bucket.items():
            members.sort(key=lambda e: (-e.score, e.learner_key))
            for k in range(0, len(members), MAX_LEARNERS):
                seats.append((-sum(e.score for e in members[k:k + MAX_LEARNERS]), bucket, k))
        keep = {(bucket, k) for _, bucket, k in sorted(seats)[:max(0, free.get(person, 0))]}
        for bucket, members in by_bucket.items():
            for index, edge in enumerate(members):
                if (bucket, index - index % MAX_LEARNERS) not in keep:
                    dropped.add(id(edge))
    return [edge for edge in chosen if id(edge) not in dropped]


def _greedy_into(chosen: list[Edge], edges: list[Edge], free: dict[str, int],
                 seats: dict[tuple[str, str], int], used: dict[str, int], load_step: float) -> list[Edge]:
    """Add edges best first: into a connection with a free seat, or a new connection while the
    sharer has one free, when the edge is still worth something after its load step."""
    chosen = list(chosen)
    taken = {edge.learner_key for edge in chosen}
    learners_of: dict[str, int] = defaultdict(int)
    for edge in chosen:
        learners_of[edge.person] += 1
    for edge in sorted(edges, key=lambda e: (-e.score, e.learner_key, e.bucket)):
        if edge.learner_key in taken or edge.score - load_step * (learners_of[edge.person] // MAX_LEARNERS) <= 0:
            continue
        if seats[edge.bucket] == 0:
            if used[edge.person] >= free.get(edge.person, 0):
                continue
            used[edge.person] += 1
            seats[edge.bucket] = edge.seats
        seats[edge.bucket] -= 1
        learners_of[edge.person] += 1
        taken.add(edge.learner_key)
        chosen.append(edge)
    return chosen


def greedy(learners: list[dict], edges: list[Edge], free: dict[str, int], load_step: float = 0.5) -> Assignment:
    """Baseline: best remaining edge first, into an open connection with a seat or a new one."""
    chosen = _greedy_into([], edges, free, defaultdict(int), defaultdict(int), load_step)
    return Assignment(sorted(chosen, key=lambda e: (e.bucket, e.learner_key)), load_step, methods={"greedy": 1})


def group(chosen: list[Edge]) -> list[dict]:
    """Learners of one topic and language with the same sharer become one connection (<= 4 people)."""
    buckets: dict[tuple[str, str], list[Edge]] = defaultdict(list)
    for edge in chosen:
        buckets[edge.bucket].append(edge)
    connections = []
    for (_share, language), members in sorted(buckets.items()):
        members.sort(key=lambda e: (-e.score, e.learner_key))
        for start in range(0, len(members), members[0].seats):
            chunk = members[start:start + members[0].seats]
            connections.append({"sharer": chunk[0].sharer, "topic": chunk[0].sharer["topic"], "language": language,
                                "learners": chunk, "join": chunk[0].join})
    return connections


def join_edges(edges: list[Edge], open_connections: list[dict], members: dict[str, dict], blocked: set[str],
               config, on: date) -> list[Edge]:
    """For each feasible learner-sharer edge, the same learner joining each open connection of that
    sharer in that language with a free seat, when they keep every hard rule with every member."""
    by_sharer: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for match in open_connections:
        if joins.joinable(match):
            by_sharer[(sharer_of(match), match["topic"], match["language"])].append(match)
    extra = []
    for edge in edges:
        for match in by_sharer.get((edge.person, edge.learner["topic"], edge.language), ()):
            if joins.violation(edge.learner, match, joins.members_of(match, members), blocked, on,
                               config.day_start_hour, config.day_end_hour, config.min_overlap_minutes) is None:
                extra.append(edge.joining(match["_id"], joins.room(match)))
    return extra


def plan_round(learners: list[dict], sharers: list[dict], *, blocked: set[str], connected: set,
               loads: dict[str, int], capacities: dict[str, int], region_share: dict[str, float], config,
               on: date, now: datetime | None = None, solver=None, open_connections: list[dict] = (),
               members: dict[str, dict] | None = None) -> RoundResult:
    """The round's plan. `open_connections` (proposed or confirmed matches) may take learners into
    their free seats, checked against every member (`members`: interests by interest id)."""
    edges, why = feasible_edges(learners, sharers, blocked=blocked, connected=connected, loads=loads,
                                region_share=region_share, config=config, on=on, now=now)
    extra = join_edges(edges, list(open_connections), members or {}, blocked, config, on)
    edges += extra
    free = {person: capacities.get(person, config.sharer_capacity) - loads.get(person, 0)
            for person in {s["participant_id"] for s in sharers}}
    free.update({edge.person: 1 for edge in extra})
    load_step = 0.5 * config.weights["load"]
    if solver is None:
        assignment = optimal(learners, edges, free, load_step, exact_edges=config.exact_edges)
    else:
        assignment = solver(learners, edges, free, load_step)
    explain(assignment.edges, loads=loads, region_share=region_share, config=config, on=on, now=now)
    result = RoundResult(connections=group(assignment.edges), total_score=assignment.total, bound=assignment.bound,
                         proven=assignment.proven, methods=assignment.methods)
    matched = {e.learner_key for e in assignment.edges}
    for learner in sorted(learners, key=interest_key):
        key = interest_key(learner)
        if key not in matched:
            result.unmatched.append({"learner": learner, "reason": why.get(key, "capacity")})
    return result


__all__ = ["Assignment", "Edge", "RoundResult", "explain", "feasible_edges", "greedy", "group", "optimal", "parts",
           "plan_round"]
