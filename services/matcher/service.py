"""The matcher's use cases: load -> decide with domain/ -> save state and events in one transaction.

MatcherService is what the API and the worker's handlers call; it is made of one class per
group of use cases (read model, proposals, rounds, answers), each under 250 lines.
"""
from __future__ import annotations

import copy
import logging
import os
import socket
import threading
import uuid
from datetime import date, datetime, timedelta
from typing import Callable, Iterator

from pymongo.errors import DuplicateKeyError

from shared import audit
from shared.audit import AuditLog
from shared.clock import iso, utcnow
from shared.mongo import in_transaction
from shared.taxonomy import is_base_topic, topic_label

from services.matcher.config import MatcherConfig
from services.matcher.domain import blocks, capacity, incremental, joins, read_model, responses, rounds, self_made
from services.matcher.domain.assignment import explain, feasible_edges, plan_round
from services.matcher.domain.candidates import Edge
from services.matcher.domain.errors import Invalid, MatchError, NotFound, RoundRunning
from services.matcher.domain.matches import (
    claim_key, event_data, interest_id, new_match, sharer_of, waited_seconds,
)
from services.matcher.store import Store

MEMBER_FIELDS = ("participants", "score", "reasons", "reason_codes", "waited_seconds")  # what a join changes
REGION_CACHE = timedelta(seconds=60)  # incremental proposals reuse the sharers' region shares this long


log = logging.getLogger(__name__)


class _JoinLost(Exception):
    """The connection a learner was to join changed meanwhile; the transaction is given up."""


class _Part:
    def __init__(self, store: Store, config: MatcherConfig, clock: Callable[[], datetime]):
        self.store, self.config, self.clock = store, config, clock

    def reference_day(self) -> date:
        return (self.clock() + timedelta(days=7)).date()


class Closing(_Part):
    """A proposal or connection ends without an outcome: declined, expired or withdrawn."""

    def close(self, session, match: dict, status: str, participant_id: str | None, reason: str | None,
              emit: bool = True) -> None:
        now = self.clock()
        self.store.update_match(match["_id"], {"status": status, "closed_at": now, "participants": match["participants"],
                                               "close_reason": reason}, session=session)
        self.store.lower_load(sharer_of(match), session=session)
        self.store.release_claims(match["_id"], session=session)
        if status == "expired":  # not proposed to each other again until the cooldown has passed
            existing = self.store.blocks_by_id([p for p, _ in blocks.after_decline(match, sharer_of(match))],
                                               session=session)
            for pair, people, until in blocks.after_expiry(match, existing, now, self.config.cooldown_days):
                self.store.block_until(pair, people, until, session=session)
        if emit:
            cause = "expired" if status == "expired" else "responded"
            self.store.outbox.add(session, "match-declined", event_data(
                match, participant_id=participant_id, reason=reason, cause=cause))


class ReadModel(_Part):
    """The matcher's copy of the registry's participants and interests."""

    def __init__(self, store, config, clock, closing: Closing):
        super().__init__(store, config, clock)
        self.closing = closing

    def apply_skill(self, session, data: dict) -> None:
        self.apply_arrivals(session, [], [data])

    def apply_skill_withdrawn(self, session, data: dict) -> None:
        if read_model.is_older(self.store.candidate(interest_id(data), session), data["revision"]):
            return
        self.store.update_candidate(interest_id(data), read_model.withdrawn_interest(data), session=session)
        # A proposal on an interest its owner no longer has will not be taken up; a connection
        # already agreed on goes ahead.
        for match in self.store.proposals_with(data["topic"], data["participant_id"],
                                               read_model.role_of(data["direction"]), session=session):
            self.closing.close(session, match, "withdrawn", data["participant_id"], "the interest was withdrawn")

    def apply_arrivals(self, session, states: list[dict], skills: list[dict]) -> None:
        self.store.write(self.arrival_writes(session, states, skills), session=session)

    def arrival_writes(self, session, states: list[dict], skills: list[dict]) -> list:
        """A poll's participant-registered / -updated (`states`) and skill-registered (`skills`)
        events, each kind in order, as if applied one at a time: one read of the people, one of
        the interests, and the writes returned (for one bulk write). Nothing of an erased person;
        each person's newest state revision kept (tokens are the TokenSubjects') and revision
        raised by their skills; an interest's newer copy kept."""
        docs, erased = self.store.people_and_erased(
            list(dict.fromkeys(data["participant_id"] for data in [*states, *skills])), session)
        seen = {pid: doc.get("state_revision", 0) for pid, doc in docs.items()}
        state_revisions: dict[str, int] = {}
        for data in states:
            pid = data["participant_id"]
            if pid not in erased and data["revision"] >= seen.get(pid, 0):
                seen[pid] = state_revisions[pid] = data["revision"]
        held = self.store.candidates_by_id([interest_id(data) for data in skills], session) if skills else {}
        revisions: dict[str, int] = {}
        newer: dict[str, dict] = {}
        for data in skills:
            if data["participant_id"] in erased:
                continue
            revisions[data["participant_id"]] = max(revisions.get(data["participant_id"], 0), data["revision"])
            if not read_model.is_older(held.get(interest_id(data)), data["revision"]):
                held[interest_id(data)] = newer[interest_id(data)] = read_model.candidate(data)
        return self.store.arrival_operations(state_revisions, revisions, list(newer.values()))

    def apply_participant_withdrawn(self, session, data: dict) -> None:
        """Their open proposals and connections close (the others are told and look again), then
        nothing of them stays searchable (Store.erase_person)."""
        pid = data["participant_id"]
        if self.store.is_erased(pid, session):
            return
        for match in self.store.open_matches_of(pid, session=session):
            self.closing.close(session, match, "withdrawn", pid, "a participant left the program")
        self.store.erase_person(pid, f"erased-{uuid.uuid4().hex[:16]}", session=session)


class Proposals(_Part):
    """Proposals in a transaction: a sharer's new connections (reserve) and learners joining an
    open one (join)."""

    _regions: tuple[datetime, dict] | None = None

    def context(self):
        """What a round's rules and score need beyond the people: blocked and connected pairs,
        sharers' open connections and capacities, each region's share of sharers."""
        now = self.clock()
        blocked = blocks.active(self.store.blocks_of(), now)
        connected = {(doc["pair"], doc["topic"]) for doc in self.store.connected_of(now)}
        docs = self.store.loads_of()
        loads = {person: doc.get("open", 0) for person, doc in docs.items()}
        capacities = {person: doc["capacity"] for person, doc in docs.items() if "capacity" in doc}
        return blocked, connected, loads, capacities, self.region_share(fresh=True)

    def region_share(self, fresh: bool) -> dict[str, float]:
        now = self.clock()
        if fresh or self._regions is None or now - self._regions[0] > REGION_CACHE:
            regions = [doc["region"] for doc in self.store.active_interests("share", projection={"region": 1})]
            self._regions = (now, incremental.region_share(regions))
        return self._regions[1]

    def reserve(self, session, connections: list[dict], round_id: str | None) -> list[dict | None]:
        """Proposals and their events, in one transaction, for the connections whose sharer still
        has a free connection; a learner with an open proposal on the topic (made meanwhile by
        another worker or the incremental mode) is left out. Returns a match or None per connection.

        Two guards make concurrent writers safe: the sharer's `open` count is raised only if it is
        still the value read (a conditional update; a concurrent change fails it or conflicts the
        transaction, which is retried), and each learner interest holds one claim document while
        its proposal is open (upserted: of two racing transactions, one conflicts and retries)."""
        now = self.clock()
        people = sorted({c["sharer"]["participant_id"] for c in connections})
        loads = self.store.loads_of(people, session=session)
        granted = capacity.grant(capacity.wanted([c["sharer"]["participant_id"] for c in connections]), loads,
                                 self.config.sharer_capacity)
        raises = {person: (loads[person].get("open", 0), count) for person, count in granted.items() if count}
        if self.store.raise_loads(raises, session=session) != len(raises):  # someone's count moved meanwhile
            after = {person: doc.get("open", 0) for person, doc in self.store.loads_of(people, session).items()}
            granted = capacity.confirmed(granted, loads, after)
        taken = [(connection, connection.get("match_id") or uuid.uuid4().hex)
                 for connection in capacity.take(connections, granted)]
        claims = [(match_id, edge) for connection, match_id in taken for edge in connection["learners"]]
        got = self.store.claim([(claim_key(edge.learner), match_id) for match_id, edge in claims], session=session)
        claimed = {id(claims[index][1]) for index in got}
        made: dict[int, dict] = {}
        returned: dict[str, int] = {}
        for connection, match_id in taken:
            learners = [edge for edge in connection["learners"] if id(edge) in claimed]
            person = connection["sharer"]["participant_id"]
            if learners:
                made[id(connection)] = new_match(match_id, connection["sharer"], learners, connection["language"],
                                                 round_id, now, self.config.response_days)
            else:  # everyone was proposed to meanwhile: the connection is given back
                returned[person] = returned.get(person, 0) + 1
        for person, count in sorted(returned.items()):
            self.store.lower_load(person, count, session=session)
        matches = list(made.values())
        if matches:
            self.store.insert_matches(matches, session=session)
            self.store.outbox.add_many(session, [("match-proposed", event_data(m)) for m in matches])
        return [made.get(id(connection)) for connection in connections]

    def join_if_open(self, session, match_id: str, edges: list[Edge]) -> dict | None:
        """join() inside a round's batch: None (nothing written) when the connection changed."""
        try:
            return self.join(session, match_id, edges)
        except _JoinLost:
            return None

    def join_now(self, match_id: str, edges: list[Edge]) -> dict | None:
        try:
            return in_transaction(self.store.db, lambda s: self.join(s, match_id, edges))
        except _JoinLost:
            return None

    def join(self, session, match_id: str, edges: list[Edge]) -> dict:
        """Learners join an open connection (each with their own deadline to answer): their claims,
        the members, and match-joined per learner, in the caller's transaction. Raises _JoinLost
        (aborting it) when the connection closed, filled or changed meanwhile, or a learner was
        proposed to meanwhile."""
        match = self.store.match(match_id, session)
        if match is None or joins.room(match) < len(edges) or not joins.joinable(match):
            raise _JoinLost(match_id)
        if any(self.store.has_claim(claim_key(edge.learner), session) for edge in edges):
            raise _JoinLost(match_id)
        size = joins.size(match)
        got = self.store.claim([(claim_key(edge.learner), match_id) for edge in edges], session=session)
        if len(got) != len(edges):  # after writes: abort the whole transaction
            raise RuntimeError(f"a learner was proposed to while joining {match_id}")
        now = self.clock()
        events = []
        for edge in edges:
            joins.add_member(match, edge.learner, edge.score, edge.reasons, edge.codes, now,
                             now + timedelta(days=self.config.response_days), waited_seconds(edge.learner, now))
            events.append(("match-joined", edge.learner["participant_id"]))
        fields = {k: match[k] for k in MEMBER_FIELDS}
        if not self.store.update_members(match_id, size, fields, session=session):
            raise RuntimeError(f"connection {match_id} changed while joining it")
        self.store.outbox.add_many(session, [(kind, event_data(match, participant_id=pid)) for kind, pid in events])
        return match

class Incremental(_Part):
    """Incremental mode: a new learner's proposal at once, without waiting for a round, and
    re-proposals after a proposal closed without a connection."""

    def __init__(self, store, config, clock, proposals: Proposals):
        super().__init__(store, config, clock)
        self.proposals = proposals

    def surroundings(self, learners: list[dict]) -> incremental.Surroundings:
        """What proposing to these learners needs, in six reads whatever their number: their
        topics' sharers and those sharers' loads, their blocks and cooldowns, the connections with
        a free seat on their topics and those connections' members."""
        now = self.clock()
        topics = sorted({learner["topic"] for learner in learners})
        people = sorted({learner["participant_id"] for learner in learners})
        sharers = self.store.active_interests_on("share", topics)
        load_docs = self.store.loads_of([s["participant_id"] for s in sharers]) if sharers else {}
        open_connections = self.store.open_connections(topics, with_room=True)
        interests = self.store.candidates_by_id([joins.member_interest(match, person) for match in open_connections
                                                 for person in match["participants"]]) if open_connections else {}
        return incremental.Surroundings.of(sharers, self.store.blocks_of(people), self.store.connected_of(now, people),
                                           load_docs, self.proposals.region_share(fresh=False), open_connections,
                                           interests)

    def propose_for_learner(self, learner_id: str) -> dict | None:
        """Incremental mode for one learner: their proposal, or None."""
        made = self.propose_for_learners([learner_id])
        return made[0] if made else None

    def propose_for_learners(self, learner_ids: list[str]) -> list[dict]:
        """Incremental mode, for a poll's new learners: what they need is read once for all of them
        (surroundings) and their proposals are written together, each conditional on what was read
        or proposed before it in the poll. When a condition fails (another worker, a round or an
        answer changed something meanwhile), nothing of it is written and each learner is decided
        in turn from a fresh read, each proposal its own write. Returns the proposals made."""
        learners = self.store.waiting_learners(learner_ids)
        if not learners:
            return []
        around = self.surroundings(learners)
        if len(learners) > 1:
            made = self._together(learners, around)
            if made is not None:
                return made
            around = self.surroundings(learners)
        made = [self._propose(learner, around) for learner in learners]
        return [match for match in made if match is not None]

    def _options(self, learner: dict, around: incremental.Surroundings) -> Iterator[tuple[str, Edge, dict | None]]:
        """The learner's proposals, best first, as ("join", edge, connection) or ("new", edge, None):
        sharers best first; for each, their joinable connections on the topic and language where the
        learner keeps every rule with every member, then a new connection if they have room; only
        edges whose score reaches the threshold. Lazy: each option sees `around` as the ones tried
        before it left it."""
        on, now = self.reference_day(), self.clock()
        blocked = around.blocked(learner["participant_id"], now)
        edges, _ = feasible_edges([learner], around.sharers.get(learner["topic"], []), blocked=blocked,
                                  connected=around.connected(learner["participant_id"]), loads=around.loads,
                                  region_share=around.region_share, config=self.config, on=on, now=now)
        for edge in incremental.ranked(edges, self.config.proposal_threshold):
            explain([edge], loads=around.loads, region_share=around.region_share, config=self.config, on=on, now=now)
            for match in filter(joins.joinable, joins.order(around.open_with(edge))):
                if joins.violation(learner, match, joins.members_of(match, around.interests), blocked, on,
                                   self.config.day_start_hour, self.config.day_end_hour,
                                   self.config.min_overlap_minutes) is None:
                    yield "join", edge, match
            if around.has_room(edge.person, self.config.sharer_capacity):
                yield "new", edge, None

    def _together(self, learners: list[dict], around: incremental.Surroundings) -> list[dict] | None:
        """Each learner's first option, as if proposed in turn, all in one bulk write and its
        commit; None, with nothing written, when a condition failed."""
        made, operations, first_loads = [], [], set()
        for learner in learners:
            kind, edge, match = next(self._options(learner, around), (None, None, None))
            if kind == "join":
                joined, fields, event = self._joined(match, edge)
                operations += self.store.join_operations(match, fields, claim_key(learner), [event])
                around.joined(joined, learner)
                made.append(joined)
            elif kind == "new":
                if edge.person not in around.loads:
                    first_loads.add(edge.person)
                match = self._new(edge)
                load_as_read = (around.loads.get(edge.person, 0), around.capacities.get(edge.person))
                operations += self.store.reserve_operations(match, edge.person, load_as_read, claim_key(learner),
                                                            [("match-proposed", event_data(match))])
                around.opened(match, edge)
                made.append(match)
        if not made:
            return []
        self.store.ensure_loads(sorted(first_loads))  # a sharer's first connection: their load document first
        return made if self.store.write_if_unchanged(operations, proposals=len(made)) else None

    def _propose(self, learner: dict, around: incremental.Surroundings) -> dict | None:
        """The learner's options in turn until one is written; another worker's proposal to the
        learner meanwhile ends it."""
        for kind, edge, match in self._options(learner, around):
            if kind == "join":
                made = self.join_one(match, edge) or self.proposals.join_now(match["_id"], [edge])
                if made is not None:
                    around.joined(made, learner)
                    return made
                around.forget(match)
            else:
                made = self._open(edge, around)
                if made is not None:
                    return made
            if self.store.has_claim(claim_key(learner)):
                return None  # someone else proposed to this learner meanwhile
        return None

    def _open(self, edge: Edge, around: incremental.Surroundings) -> dict | None:
        """A new connection of the edge's sharer, conditional on their load as read; when it moved,
        decided again in a transaction from a fresh read."""
        if edge.person not in around.loads:  # a sharer's first connection: their load document first
            self.store.ensure_loads([edge.person])
        load = None
        match = self.reserve_new(edge, (around.loads.get(edge.person, 0), around.capacities.get(edge.person)))
        if match is None:  # the sharer's load moved or the learner was claimed meanwhile: look again
            connection = {"sharer": edge.sharer, "learners": [edge], "language": edge.language}
            [match] = in_transaction(self.store.db, lambda s, c=connection: self.proposals.reserve(s, [c], None))
            load = around.loads[edge.person] = self.store.loads_of([edge.person]).get(edge.person, {}).get("open", 0)
        if match is not None:
            around.opened(match, edge, load)
        return match

    def _joined(self, match: dict, edge: Edge) -> tuple[dict, dict, tuple[str, dict]]:
        """The connection with the edge's learner added, the fields that changed, and its event."""
        joined = copy.deepcopy(match)
        now = self.clock()
        joins.add_member(joined, edge.learner, edge.score, edge.reasons, edge.codes, now,
                         now + timedelta(days=self.config.response_days), waited_seconds(edge.learner, now))
        event = ("match-joined", event_data(joined, participant_id=edge.learner["participant_id"]))
        return joined, {k: joined[k] for k in MEMBER_FIELDS}, event

    def _new(self, edge: Edge) -> dict:
        return new_match(uuid.uuid4().hex, edge.sharer, [edge], edge.language, None, self.clock(),
                         self.config.response_days)

    def join_one(self, match: dict, edge: Edge) -> dict | None:
        """Proposals.join() for one learner, on the connection as read, in one bulk write and its
        commit; None, with nothing written, when the connection changed meanwhile or the learner
        was proposed to (join_now then decides afresh)."""
        if joins.room(match) < 1 or not joins.joinable(match):
            return None
        joined, fields, event = self._joined(match, edge)
        return joined if self.store.join_one(match, fields, claim_key(edge.learner), [event]) else None

    def reserve_new(self, edge: Edge, load_as_read: tuple[int, int | None]) -> dict | None:
        """A new connection for one learner in one bulk write and its commit (reserve() takes a
        read and four writes); None, with nothing written, when the sharer's (open, capacity) is
        no longer `load_as_read` or the learner was claimed meanwhile."""
        match = self._new(edge)
        if not self.store.reserve_one(match, edge.person, load_as_read, claim_key(edge.learner),
                                      [("match-proposed", event_data(match))]):
            return None
        return match

    def propose_for_sharer(self, sharer_id: str, tries: int = 50) -> list[dict]:
        """A new (or freed) share interest: the learners of that topic who have waited longest and
        have no open proposal each get their best proposal (which may be with another sharer)."""
        sharer = self.store.active_candidate(sharer_id)
        if not sharer or sharer["direction"] != "share":
            return []
        busy = self.store.claimed()
        waiting = [learner for learner in self.store.active_interests(
            "learn", sharer["topic"], {"participant_id": 1, "registered_at": 1, "topic": 1})
            if (learner["participant_id"], learner["topic"]) not in busy]
        waiting.sort(key=lambda learner: (learner.get("registered_at") or "", learner["_id"]))
        return self.propose_for_learners([learner["_id"] for learner in waiting[:tries]])

    def repropose(self, data: dict) -> list[dict]:
        """After a proposal closed without a connection: its learners and its sharer look again
        (the pairs that declined are blocked, so they meet someone else)."""
        made = []
        for role, participant in responses.looking_again(data):
            if role == "learner":
                match = self.propose_for_learner(f"{participant}:{data['topic']}:learn")
                made += [match] if match else []
            else:
                made += self.propose_for_sharer(f"{participant}:{data['topic']}:share")
        return made


class Rounds(_Part):
    """Round requests (the API): a round, a dry run, committing a preview; one round at a time."""

    def __init__(self, store, config, clock, proposals: Proposals):
        super().__init__(store, config, clock)
        self.proposals = proposals
        self.audit = AuditLog(store.db)

    def inputs(self) -> dict:
        """Everything a round plans from, and the fingerprint of what it depends on."""
        state = self.store.plan_state()
        blocked, connected, loads, capacities, region_share = self.proposals.context()
        busy = self.store.claimed()
        learners = [c for c in self.store.active_interests("learn") if (c["participant_id"], c["topic"]) not in busy]
        sharers = self.store.active_interests("share")
        open_connections = self.store.open_connections()
        members = self.store.candidates_by_id([joins.member_interest(match, person) for match in open_connections
                                               for person in match["participants"]])
        return {"learners": learners, "sharers": sharers, "blocked": blocked, "connected": connected, "loads": loads,
                "capacities": capacities, "region_share": region_share, "open_connections": open_connections,
                "members": members, "fingerprint": rounds.fingerprint(state)}

    def request(self, requested_by: str, dry_run: bool = False, actor: dict | None = None) -> dict:
        """Record a round for the workers (202 at once); 409 while another round is pending or running.
        `actor`: the staff member (shared.audit.actor_of), audited with the request."""
        now = self.clock()
        doc = {"_id": uuid.uuid4().hex, "status": "requested", "dry_run": dry_run, "requested_by": requested_by,
               "requested_at": now, "started_at": now, "attempts": 0, "lease_until": None}

        def work(session):
            self.store.insert_round(doc, session=session)
            self._audited(session, actor, "round.preview" if dry_run else "round.run", doc["_id"])
        self._with_lock(doc["_id"], work)
        return doc

    def _audited(self, session, actor: dict | None, action: str, round_id: str, after: dict | None = None) -> None:
        if actor is not None:
            self.audit.insert(audit.entry(actor, action, "round", round_id, after=after, at=self.clock()), session)

    def commit(self, round_id: str, requested_by: str, actor: dict | None = None) -> dict:
        """Write a preview's plan as it is, while nothing it depends on has changed (409 otherwise)."""
        doc = self.store.round(round_id)
        if doc is None:
            raise NotFound("no such round")
        if doc["status"] != "preview":
            raise MatchError(f"this round is {doc['status']}; only a preview (dry run) can be committed")
        if self.inputs()["fingerprint"] != doc.get("fingerprint"):
            self.store.update_round(round_id, {"status": "stale"}, expect={"status": "preview"})
            raise MatchError("interests, answers or capacities changed since this preview; request a new one")

        def work(session):
            if not self.store.update_round(round_id, {"status": "committing", "committed_by": requested_by,
                                                      "commit_requested_at": self.clock(), "lease_until": None,
                                                      "phase": "writing", "written": 0},
                                           session=session, expect={"status": "preview"}):
                raise MatchError("this preview is being committed already")
            self._audited(session, actor, "round.commit", round_id, {"status": "committing"})
        self._with_lock(round_id, work)
        return self.store.round(round_id)

    def _with_lock(self, round_id: str, work) -> None:
        """Take the one-round lock and do `work(session)` in one transaction; a lock left by a
        round that has ended (its worker released it late or died) is cleared first."""
        def locked(session):
            self.store.lock_round(round_id, session=session)
            work(session)

        for attempt in range(2):
            try:
                in_transaction(self.store.db, locked)
                return
            except DuplicateKeyError as exc:
                holder = self.store.round_lock()
                current = self.store.round(holder["round_id"]) if holder else None
                if attempt == 0 and (holder is None or current is None or current["status"] in rounds.FINAL):
                    if holder is not None:
                        self.store.drop_round_lock(holder["round_id"])
                    continue
                raise RoundRunning(f"a round is already running ({holder['round_id'] if holder else '?'})") from exc

    def schedule_tick(self) -> dict | None:
        """LC_MATCHER_ROUND_SCHEDULE: request the round of the current period once, whichever
        worker gets here first (the period's marker is unique)."""
        due = rounds.due_time(self.config.round_schedule, self.clock(),
                              timedelta(minutes=self.config.schedule_grace_minutes))
        if due is None or self.store.scheduled(iso(due)):
            return None
        now = self.clock()
        doc = {"_id": uuid.uuid4().hex, "status": "requested", "dry_run": False, "requested_by": "schedule",
               "scheduled_for": due, "requested_at": now, "started_at": now, "attempts": 0, "lease_until": None}

        def work(session):
            self.store.mark_scheduled(iso(due), doc["_id"], session=session)
            self.store.insert_round(doc, session=session)
        try:
            self._with_lock(doc["_id"], work)
        except (DuplicateKeyError, RoundRunning):
            return None  # fired by another worker, or a round is running: the next tick looks again
        return doc


class _LeaseLost(Exception):
    """Another worker holds the round now (this one was too slow to renew its lease)."""


class RoundRunner(_Part):
    """The workers' side of rounds: lease one, plan it (or finish writing its stored plan), write
    its proposals batch by batch; a worker that dies leaves whole batches and the lease runs out."""

    def __init__(self, store, config, clock, requests: Rounds, proposals: Proposals):
        super().__init__(store, config, clock)
        self.requests, self.proposals = requests, proposals
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def lease(self) -> timedelta:
        return timedelta(seconds=self.config.round_lease_seconds)

    def work(self) -> dict | None:
        """One pending round, if any, run to its end (the worker's periodic job)."""
        # In a transaction: a worker killed mid-batch leaves its transaction open on the round's
        # document until the server aborts it (60 s); a transaction retries until then.
        doc = in_transaction(self.store.db, lambda session: self.store.claim_round(
            self.owner, self.clock(), self.clock() + self.lease(), session=session))
        if doc is None:
            return None
        if doc["attempts"] > self.config.round_attempts:
            return self._finish(doc, {"status": "failed", "error": f"gave up after {doc['attempts'] - 1} attempts"})
        stop = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(doc["_id"], stop), daemon=True)
        beat.start()
        try:
            if doc.get("phase") != "writing":
                doc = self._plan(doc)
            if doc["status"] == "running" and doc.get("phase") == "writing":
                doc = self._write(doc)
            return doc
        except _LeaseLost:
            log.warning("round %s: lease lost to another worker", doc["_id"])
            return None
        except Exception:
            log.exception("round %s failed (attempt %s); another attempt follows", doc["_id"], doc["attempts"])
            self.store.update_round(doc["_id"], {"lease_until": None}, expect={"lease_owner": self.owner})
            return None
        finally:
            stop.set()
            beat.join()

    def _heartbeat(self, round_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.config.round_lease_seconds / 3):
            self.store.renew_lease(round_id, self.owner, self.clock() + self.lease())

    def _fence(self, session, round_id: str, fields: dict | None = None) -> None:
        """Inside a write's transaction: this worker still holds the round (else nothing is written)."""
        if not self.store.update_round(round_id, {"lease_until": self.clock() + self.lease(), **(fields or {})},
                                       session=session, expect={"lease_owner": self.owner, "status": "running"}):
            raise _LeaseLost(round_id)

    def _plan(self, doc: dict) -> dict:
        self.store.update_round(doc["_id"], {"phase": "planning"}, expect={"lease_owner": self.owner})
        now = self.clock()
        inputs = self.requests.inputs()
        plan = plan_round(inputs["learners"], inputs["sharers"], blocked=inputs["blocked"],
                          connected=inputs["connected"], loads=inputs["loads"], capacities=inputs["capacities"],
                          region_share=inputs["region_share"], config=self.config, on=self.reference_day(), now=now,
                          open_connections=inputs["open_connections"], members=inputs["members"])
        entries = rounds.plan_entries(doc["_id"], plan.connections, self.config.round_batch)
        summary = {"learners": len(inputs["learners"]), "total_score": plan.total_score, "bound": plan.bound,
                   "proven_optimal": plan.proven, "methods": plan.methods, "planned": len(entries), "written": 0,
                   "fingerprint": inputs["fingerprint"], "planned_at": self.clock(),
                   "unmatched": [{"participant": u["learner"]["participant_id"], "topic": u["learner"]["topic"],
                                  "reason": u["reason"]} for u in plan.unmatched]}
        if doc.get("dry_run") and not doc.get("committed_by"):
            summary.update(status="preview", finished_at=self.clock(), lease_until=None)
        else:
            summary.update(phase="writing")

        def work(session):
            self._fence(session, doc["_id"], summary)
            self.store.insert_plan(entries, session=session)
            if summary.get("status") == "preview":
                self.store.drop_round_lock(doc["_id"], session=session)
        in_transaction(self.store.db, work)
        return self.store.round(doc["_id"])

    def _write(self, doc: dict) -> dict:
        pending = self.store.plan(doc["_id"], done=False)
        self.store.ensure_loads([e["sharer"]["participant_id"] for e in pending if e["kind"] == "new"])
        batches: dict[int, list[dict]] = {}
        for entry in pending:
            batches.setdefault(entry["batch"], []).append(entry)
        for number in sorted(batches):
            in_transaction(self.store.db, lambda s, b=batches[number]: self._write_batch(s, doc["_id"], b))
        return self._complete(doc["_id"])

    def _write_batch(self, session, round_id: str, entries: list[dict]) -> None:
        self._fence(session, round_id)
        new = [entry for entry in entries if entry["kind"] == "new"]
        made = self.proposals.reserve(session, [rounds.connection_of(e) for e in new], round_id)
        results = {entry["_id"]: match["_id"] if match else None for entry, match in zip(new, made)}
        for entry in entries:
            if entry["kind"] == "join":
                joined = self.proposals.join_if_open(session, entry["match_id"], rounds.connection_of(entry)["learners"])
                results[entry["_id"]] = entry["match_id"] if joined else None
        self.store.mark_planned(results, session=session)
        self.store.count_written(round_id, len(entries), session=session)

    def _complete(self, round_id: str) -> dict:
        proposals, joined, unmatched = [], [], []
        for entry in self.store.plan(round_id):
            if entry.get("result") and entry["kind"] == "new":
                proposals.append(entry["result"])
            elif entry.get("result"):
                joined.append(entry["result"])
            else:  # the sharer's last connection, or the open connection's seats, were taken meanwhile
                unmatched += [{"participant": learner["participant_id"], "topic": learner["topic"],
                               "reason": "capacity"} for learner in entry["learners"]
                              if not self.store.has_claim(claim_key(learner))]
        doc = self.store.round(round_id)
        return self._finish(doc, {"status": "completed", "proposals": proposals, "joined": joined,
                                  "unmatched": doc.get("unmatched", []) + unmatched})

    def _finish(self, doc: dict, fields: dict) -> dict:
        fields = {**fields, "finished_at": self.clock(), "lease_until": None, "phase": None}
        self.store.update_round(doc["_id"], fields)
        self.store.drop_round_lock(doc["_id"])
        self.store.drop_plan(doc["_id"])
        return {**doc, **fields}


class Answers(_Part):
    """Accept, decline, expiry and the outcome of a connection."""

    def __init__(self, store, config, clock, closing: Closing):
        super().__init__(store, config, clock)
        self.closing = closing

    def respond(self, match_id: str, participant_id: str, response: str, reason: str | None) -> dict:
        def work(session):
            answer = responses.answer(self.store.match(match_id, session), participant_id, response, reason,
                                      self.clock())
            match = answer.match
            self.store.outbox.add_many(session, [(kind, event_data(match, **extra)) for kind, extra in answer.events
                                                 if kind != "match-confirmed"])
            if answer.declined:
                self.closing.close(session, match, "declined", participant_id, reason, emit=False)
                for pair, people in blocks.after_decline(match, participant_id):
                    self.store.block_for_good(pair, people, self.clock(), session=session)
                return self.store.match(match_id, session)
            if answer.left:  # a joined learner declined: the pair is blocked, their claim released
                self.store.release_claim(f"{participant_id}:{match['topic']}", match_id, session=session)
                for pair, people in blocks.after_decline(match, participant_id):
                    self.store.block_for_good(pair, people, self.clock(), session=session)
            self._save_answer(session, match, answer)
            return match

        return in_transaction(self.store.db, work)

    def _save_answer(self, session, match: dict, answer: responses.Answer) -> None:
        update = {k: match[k] for k in ("participants", "status", "responded_at", "confirmed_at", "left")
                  if k in match}
        self.store.update_match(match["_id"], update, session=session)
        self.store.outbox.add_many(session, [(kind, event_data(match, **extra)) for kind, extra in answer.events
                                             if kind == "match-confirmed"])

    def expire(self) -> int:
        """Proposals nobody fully answered in time: expired, the sharer's capacity freed; joined
        learners who did not answer in time leave their connection, which goes on."""
        count = 0
        for due in self.store.due_answers(self.clock()):
            def work(session, match_id=due["_id"]):
                now = self.clock()
                current = self.store.match(match_id, session)
                if current and responses.is_expired(current, now):
                    self.closing.close(session, current, "expired", None, "no answer in time")
                    return 1
                if current is None:
                    return 0
                answer = responses.drop_overdue(current, now)
                if not answer.left:
                    return 0
                for kind, extra in answer.events:
                    if kind == "match-left":
                        self.store.release_claim(f"{extra['participant_id']}:{current['topic']}", match_id,
                                                 session=session)
                self.store.outbox.add_many(session, [(kind, event_data(current, **extra))
                                                     for kind, extra in answer.events if kind != "match-confirmed"])
                self._save_answer(session, current, answer)
                return 1
            count += in_transaction(self.store.db, work)
        return count

    def outcome(self, match_id: str, participant_id: str, summary: str) -> dict:
        def work(session):
            match = responses.check_outcome(self.store.match(match_id, session), participant_id)
            now = self.clock()
            update = {"status": "completed", "summary": summary, "completed_at": now, "reported_by": participant_id}
            self.store.update_match(match_id, update, session=session)
            self.store.lower_load(sharer_of(match), session=session)
            self.store.release_claims(match_id, session=session)
            self.store.set_connected(blocks.after_connection(match, now, self.config.cooldown_days), session=session)
            match.update(update)
            self.store.outbox.add(session, "connection-completed", event_data(
                match, summary=summary, completed_at=iso(now, "seconds"), reported_by=participant_id))
            return match

        return in_transaction(self.store.db, work)


class Connections(_Part):
    """Self-made connections and interpretation help for a connection."""

    def create(self, creator: str, topic: str, language: str, role: str, others: list[dict]) -> dict:
        """A connection a participant arranged themselves: each named person confirms it; once all
        have, it is a confirmed connection like any other (outcome, figures, at most four people)."""
        people = self_made.members(creator, role, others)
        if not is_base_topic(topic) and not self.store.topic_seen(topic):
            raise Invalid("topic", f"unknown topic code {topic!r} (see GET /taxonomy on the registry)")
        unknown = [p["id"] for p in people[1:] if not self.store.person(p["id"]) or self.store.is_erased(p["id"])]
        if unknown:
            raise Invalid("participants", "unknown participant(s): " + ", ".join(unknown))
        match = self_made.new_connection(uuid.uuid4().hex, topic, language, people, creator, self.clock(),
                                         self.config.response_days)
        sharer = sharer_of(match)
        self.store.ensure_loads([sharer])

        def work(session):
            learners = [p for p in people if p["role"] == "learner"]
            keys = [f"{p['id']}:{topic}" for p in learners]
            if any(self.store.has_claim(key, session) for key in keys):
                raise MatchError("someone named already has an open connection on this topic")
            self.store.claim([(key, match["_id"]) for key in keys], session=session)
            self.store.add_load(sharer, session=session)  # counts in the sharer's load, beyond capacity if so
            self.store.insert_matches([match], session=session)
            self.store.outbox.add(session, "connection-proposed", event_data(match, created_by=creator))
            return match
        return in_transaction(self.store.db, work)

    def request_interpretation(self, match_id: str, participant_id: str, language: str, start: datetime | None,
                               minutes: int | None) -> dict:
        """A member of a confirmed connection asks for an interpreter: translation-requested (kind
        interpretation, about the connection) for the notifier to ask that language's translators."""
        def work(session):
            match = self_made.check_interpretation(self.store.match(match_id, session), participant_id, language)
            asked = {"request_id": uuid.uuid4().hex, "language": language, "requested_by": participant_id,
                     "start": start, "minutes": minutes, "at": self.clock()}
            self.store.update_match(match_id, {"interpretation": match.get("interpretation", []) + [asked]},
                                    session=session)
            self.store.outbox.add(session, "translation-requested", {
                "request_id": asked["request_id"], "kind": "interpretation", "subject_kind": "connection",
                "subject_id": match_id, "language": language, "source_language": match["language"],
                "title": f"Let's Connect connection: {topic_label(match['topic'])}", "url": None,
                "requested_by": participant_id, "start": iso(start, "seconds") if start else None,
                "minutes": minutes})
            return asked
        return in_transaction(self.store.db, work)


class MatcherService:
    """Every use case of the matcher, for the API and the worker's handlers."""

    def __init__(self, store: Store, config: MatcherConfig, clock: Callable[[], datetime] | None = None):
        self.store, self.config = store, config
        self.clock = clock or utcnow
        closing = Closing(store, config, self.clock)
        self.read_model = ReadModel(store, config, self.clock, closing)
        self.proposals = Proposals(store, config, self.clock)
        self.incremental = Incremental(store, config, self.clock, self.proposals)
        self.rounds = Rounds(store, config, self.clock, self.proposals)
        self.answers = Answers(store, config, self.clock, closing)
        # the use cases, by name
        self.apply_skill = self.read_model.apply_skill
        self.apply_skill_withdrawn = self.read_model.apply_skill_withdrawn
        self.apply_arrivals = self.read_model.apply_arrivals
        self.arrival_writes = self.read_model.arrival_writes
        self.apply_participant_withdrawn = self.read_model.apply_participant_withdrawn
        self.propose_for_learner = self.incremental.propose_for_learner
        self.propose_for_learners = self.incremental.propose_for_learners
        self.propose_for_sharer = self.incremental.propose_for_sharer
        self.repropose = self.incremental.repropose
        self.reserve = self.proposals.reserve
        self.request_round = self.rounds.request
        self.commit_round = self.rounds.commit
        self.schedule_tick = self.rounds.schedule_tick
        self.runner = RoundRunner(store, config, self.clock, self.rounds, self.proposals)
        self.work_rounds = self.runner.work
        self.connections = Connections(store, config, self.clock)
        self.create_connection = self.connections.create
        self.request_interpretation = self.connections.request_interpretation
        self.respond = self.answers.respond
        self.expire = self.answers.expire
        self.outcome = self.answers.outcome

    def get(self, match_id: str) -> dict:
        match = self.store.match(match_id)
        if match is None:
            raise NotFound("no such match")
        return match

    def matches_of(self, participant_id: str) -> list[dict]:
        return self.store.matches_of(participant_id)

    def round(self, round_id: str) -> dict:
        doc = self.store.round(round_id)
        if doc is None:
            raise NotFound("no such round")
        if doc["status"] in ("preview", "stale"):
            doc["preview"] = rounds.preview(self.store.plan(round_id))
        return doc

    def recent_rounds(self, limit: int) -> list[dict]:
        """The round history, newest first: who requested each, who committed a preview."""
        return self.store.recent_rounds(limit)

    def connections_where(self, topic: str | None, status: str | None, with_summary: bool, limit: int,
                          region: str | None = None) -> list[dict]:
        """Connections for the console: filtered, with their outcome summaries. `region`: those with
        someone the read model places there (the region their registry profile gave)."""
        people = self.store.people_in_region(region) if region else None
        return self.store.connections_where(topic, status, with_summary, limit, people)

    def set_capacity(self, participant_id: str, limit: int) -> dict:
        """A sharer's own limit of open connections (open ones above it stay; no new ones)."""
        doc = self.store.set_capacity(participant_id, limit)
        return {"participant": participant_id, "capacity": doc["capacity"], "open": doc.get("open", 0)}

    def ensure_loads(self, people: list[str]) -> None:
        self.store.ensure_loads(people)
