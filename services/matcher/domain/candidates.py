"""Feasible learner-sharer edges for a round, computed topic by topic with numpy.

The same hard rules as rules.violation and the same score as scoring.score, in array form:
a round checks every learner against every sharer of its topic (millions of pairs at 10,000
learners), which plain Python cannot do in seconds. Unit tests check that both forms agree.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone

import numpy as np

from services.matcher.domain.rules import MAX_LEARNERS, group_key, overlap, violation
from services.matcher.domain.scoring import days_waiting

REASON_ORDER = ("no_common_language", "no_time_overlap", "same_group", "declined_before", "already_connected",
                "same_person")


def interest_key(candidate: dict) -> str:
    return f"{candidate['participant_id']}:{candidate['topic']}:{candidate['direction']}"


class Edge:
    """A learner joining a sharer's connection held in `language`, worth `score`."""

    __slots__ = ("learner", "sharer", "score", "language", "reasons", "codes", "learner_key", "person", "bucket",
                 "seats", "join")

    def __init__(self, learner: dict, sharer: dict, score: float, language: str, *, learner_key: str | None = None,
                 sharer_key: str | None = None):
        self.learner, self.sharer, self.score, self.language = learner, sharer, score, language
        self.reasons: list[str] = []
        self.codes: list[str] = []
        self.learner_key = learner_key or interest_key(learner)
        self.person = sharer["participant_id"]
        self.bucket = (sharer_key or interest_key(sharer), language)  # the connection this edge would join
        self.seats = MAX_LEARNERS  # learners a connection of this bucket takes
        self.join: str | None = None  # the open connection (match id) this edge joins, if any

    def joining(self, match_id: str, seats: int) -> "Edge":
        """The same learner and sharer, joining the open connection `match_id` (`seats` free):
        a bucket of its own, with a person of its own, so it takes none of the sharer's connections."""
        edge = Edge(self.learner, self.sharer, self.score, self.language, learner_key=self.learner_key,
                    sharer_key=f"join:{match_id}")
        edge.person, edge.seats, edge.join = f"join:{match_id}", seats, match_id
        return edge

    def __repr__(self) -> str:
        return f"Edge({self.learner_key} -> {self.bucket}, {self.score})"


def _partners(pairs) -> dict[str, set[str]]:
    """'a|b' pair keys as a lookup from each person to the other."""
    partners: dict[str, set[str]] = defaultdict(set)
    for pair in pairs:
        first, _, second = pair.partition("|")
        partners[first].add(second)
        partners[second].add(first)
    return partners


def feasible_edges(learners: list[dict], sharers: list[dict], *, blocked: set[str], connected: set,
                   loads: dict[str, int], region_share: dict[str, float], config, on: date,
                   now: datetime | None = None) -> tuple[list[Edge], dict[str, str]]:
    """Scored feasible edges (every common language of each learner's best `candidates_per_learner`
    sharers, best first) and, for each learner with none, the main reason why."""
    now = now or datetime.now(timezone.utc)
    weights = config.weights
    rule = dict(blocked_pairs=blocked, connected=connected, on=on, start_hour=config.day_start_hour,
                end_hour=config.day_end_hour, min_overlap=config.min_overlap_minutes)
    declined = _partners(blocked)
    met: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # topic -> person -> partners
    for pair, topic in connected:
        first, _, second = pair.partition("|")
        met[topic][first].add(second)
        met[topic][second].add(first)
    overlaps: dict[tuple[str, str], int] = {}

    def minutes_between(tz_a: str, tz_b: str) -> int:
        if (tz_a, tz_b) not in overlaps:
            overlaps[(tz_a, tz_b)] = overlap(tz_a, tz_b, on, config.day_start_hour, config.day_end_hour)[0]
        return overlaps[(tz_a, tz_b)]

    learners_by_topic: dict[str, list[dict]] = defaultdict(list)
    sharers_by_topic: dict[str, list[dict]] = defaultdict(list)
    for learner in sorted(learners, key=interest_key):
        learners_by_topic[learner["topic"]].append(learner)
    for sharer in sorted(sharers, key=interest_key):
        sharers_by_topic[sharer["topic"]].append(sharer)

    edges: list[Edge] = []
    why: dict[str, str] = {}
    for topic, ls in sorted(learners_by_topic.items()):
        ss = sharers_by_topic.get(topic, [])
        if not ss:
            why.update({interest_key(learner): "no_sharer_for_topic" for learner in ls})
            continue
        languages = sorted({lang for person in ls + ss for lang in person["languages"]})
        lang_index = {lang: i for i, lang in enumerate(languages)}
        speaks_l = np.zeros((len(ls), len(languages)), dtype=np.int32)
        speaks_s = np.zeros((len(ss), len(languages)), dtype=np.int32)
        for row, person in enumerate(ls):
            speaks_l[row, [lang_index[lang] for lang in person["languages"]]] = 1
        for row, person in enumerate(ss):
            speaks_s[row, [lang_index[lang] for lang in person["languages"]]] = 1
        first_l = np.array([lang_index[p["languages"][0]] for p in ls])
        first_s = np.array([lang_index[p["languages"][0]] for p in ss])
        common = (speaks_l @ speaks_s.T) > 0
        same_first = first_l[:, None] == first_s[None, :]
        first_shared = speaks_s.T[first_l].astype(bool) | speaks_l.T[first_s].T.astype(bool)
        language_best = np.where(same_first, 2.0, np.where(first_shared, 1.5, 1.0))

        zones_l = sorted({p["timezone"] for p in ls})
        zones_s = sorted({p["timezone"] for p in ss})
        zone_table = np.array([[minutes_between(a, b) for b in zones_s] for a in zones_l])
        zone_l = {z: i for i, z in enumerate(zones_l)}
        zone_s = {z: i for i, z in enumerate(zones_s)}
        minutes = zone_table[np.array([zone_l[p["timezone"]] for p in ls])][:, np.array(
            [zone_s[p["timezone"]] for p in ss])]

        groups: dict[str | None, int] = {None: -1}
        group_l = np.array([groups.setdefault(group_key(p), len(groups)) for p in ls])
        group_s = np.array([groups.setdefault(group_key(p), len(groups)) for p in ss])
        same_group = (group_l[:, None] == group_s[None, :]) & (group_l[:, None] >= 0)

        feasible = common & ~same_group & (minutes >= config.min_overlap_minutes)
        sharer_rows: dict[str, list[int]] = defaultdict(list)
        for col, sharer in enumerate(ss):
            sharer_rows[sharer["participant_id"]].append(col)
        for row, learner in enumerate(ls):
            pid = learner["participant_id"]
            for other in {pid} | declined.get(pid, set()) | met[topic].get(pid, set()):
                feasible[row, sharer_rows.get(other, [])] = False

        waited = np.array([min(days_waiting(p.get("registered_at"), now), 60) / 30 for p in ls])
        load = np.array([0.5 * loads.get(p["participant_id"], 0) for p in ss])
        rare = np.array([1 - region_share.get(p["region"], 0.0) for p in ss])
        regions = {}
        region_l = np.array([regions.setdefault(p["region"], len(regions)) for p in ls])
        region_s = np.array([regions.setdefault(p["region"], len(regions)) for p in ss])
        # the score without its language term, then the best language's
        base = (weights["overlap"] * np.minimum(minutes / 60, 4) / 2
                + weights["waiting"] * waited[:, None]
                - weights["load"] * load[None, :]
                + weights["rare_sharer"] * rare[None, :]
                + weights["region"] * 0.5 * (region_l[:, None] == region_s[None, :]))
        best = np.where(feasible, base + weights["language"] * language_best, -np.inf)

        keep = min(config.candidates_per_learner, len(ss))
        sharer_keys = [interest_key(sharer) for sharer in ss]
        for row, learner in enumerate(ls):
            row_scores = best[row]
            columns = np.flatnonzero(feasible[row])
            if columns.size == 0:
                reasons = {violation(learner, sharer, **rule) for sharer in ss}
                why[interest_key(learner)] = next((code for code in REASON_ORDER if code in reasons),
                                                  "no_common_language")
                continue
            if columns.size > keep:
                # best scores first, ties to the sharer that sorts first (deterministic)
                order = np.lexsort((columns, -np.round(row_scores[columns], 4)))
                columns = columns[order[:keep]]
            lf, learner_id = learner["languages"][0], interest_key(learner)
            for col in columns:
                sharer = ss[col]
                sf, theirs = sharer["languages"][0], sharer["languages"]
                for language in learner["languages"]:
                    if language in theirs:
                        bonus = 1 + ((language == lf) + (language == sf)) / 2
                        value = round(float(base[row, col] + weights["language"] * bonus), 4)
                        edges.append(Edge(learner, sharer, value, language, learner_key=learner_id,
                                          sharer_key=sharer_keys[col]))
    return edges, why
