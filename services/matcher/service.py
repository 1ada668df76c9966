"""The matcher's use cases: load -> decide with domain/ -> save state and events in one transaction.

MatcherService is what the API and the worker's handlers call; it is made of one class per
group of use cases (read model, proposals, rounds, answers), each under 250 lines.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Callable

from pymongo.errors import DuplicateKeyError

from shared.clock import iso, utcnow
from shared.mongo import in_transaction

from services.matcher.config import MatcherConfig
from services.matcher.domain import blocks, capacity, incremental, read_model, responses
from services.matcher.domain.assignment import explain, feasible_edges, plan_round
from services.matcher.domain.errors import NotFound, RoundRunning
from services.matcher.domain.matches import claim_key, event_data, interest_id, new_match, sharer_of
from services.matcher.store import Store

ROUND_BATCH = 200  # proposals written per transaction in a round
ROUND_LEASE = timedelta(minutes=30)  # a round lock older than this was left by a process that died
REGION_CACHE = timedelta(seconds=60)  # incremental proposals reuse the sharers' region shares this long


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
        if self.store.person(data["participant_id"], session).get("withdrawn"):
            return
        self.store.raise_revision(data["participant_id"], data["revision"], session=session)
        if read_model.is_older(self.store.candidate(interest_id(data), session), data["revision"]):
            return
        self.store.put_candidate(read_model.candidate(data), session=session)

    def apply_skill_withdrawn(self, session, data: dict) -> None:
        if read_model.is_older(self.store.candidate(interest_id(data), session), data["revision"]):
            return
        self.store.update_candidate(interest_id(data), read_model.withdrawn_interest(data), session=session)
        # A proposal on an interest its owner no longer has will not be taken up; a connection
        # already agreed on goes ahead.
        for match in self.store.proposals_with(data["topic"], data["participant_id"],
                                               read_model.role_of(data["direction"]), session=session):
            self.closing.close(session, match, "withdrawn", data["participant_id"], "the interest was withdrawn")

    def apply_participant_state(self, session, data: dict) -> None:
        """participant-registered / -updated: only the revision (tokens are the TokenSubjects')."""
        person = self.store.person(data["participant_id"], session)
        if person.get("withdrawn") or data["revision"] < person.get("state_revision", 0):
            return
        self.store.set_person(data["participant_id"], {"state_revision": data["revision"]}, session=session)

    def apply_participant_withdrawn(self, session, data: dict) -> None:
        pid = data["participant_id"]
        self.store.set_person(pid, {"withdrawn": True, "revision": data["revision"]}, session=session)
        self.store.delete_candidates_of(pid, session=session)
        for match in self.store.open_matches_of(pid, session=session):
            self.closing.close(session, match, "withdrawn", pid, "a participant left the program")
        self.store.mark_member_withdrawn(pid, session=session)


class Proposals(_Part):
    """Proposals: the sharer's reservation, incremental mode and re-proposals."""

    _regions: tuple[datetime, dict] | None = None

    def context(self, learner: dict | None = None, sharers: list[dict] | None = None):
        """What the rules and the score need beyond the two people: blocked and connected pairs,
        sharers' open connections and capacities, each region's share of sharers. For one learner
        (incremental mode) only their own pairs and the candidate sharers' loads are read."""
        now = self.clock()
        mine = learner["participant_id"] if learner else None
        blocked = blocks.active(self.store.blocks_for(mine), now)
        connected = self.store.connected_pairs(now, mine)
        docs = self.store.loads_of([s["participant_id"] for s in sharers] if sharers is not None else None)
        loads = {person: doc.get("open", 0) for person, doc in docs.items()}
        capacities = {person: doc["capacity"] for person, doc in docs.items() if "capacity" in doc}
        return blocked, connected, loads, capacities, self.region_share(fresh=learner is None)

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
        taken = [(connection, uuid.uuid4().hex) for connection in capacity.take(connections, granted)]
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

    def propose_for_learner(self, learner_id: str) -> dict | None:
        """Incremental mode: the best feasible 1:1 proposal for one learn interest, if its score
        reaches the threshold and the sharer has a free connection."""
        learner = self.store.active_candidate(learner_id)
        if not learner or learner["direction"] != "learn" or self.store.has_claim(claim_key(learner)):
            return None
        sharers = self.store.active_interests("share", learner["topic"])
        blocked, connected, loads, capacities, region_share = self.context(learner, sharers)
        edges, _ = feasible_edges([learner], sharers, blocked=blocked, connected=connected, loads=loads,
                                  region_share=region_share, config=self.config, on=self.reference_day(),
                                  now=self.clock())
        for edge in incremental.options(edges, loads, capacities, self.config.sharer_capacity,
                                        self.config.proposal_threshold):
            self.store.ensure_loads([edge.person])
            explain([edge], loads=loads, region_share=region_share, config=self.config, on=self.reference_day(),
                    now=self.clock())
            connection = {"sharer": edge.sharer, "learners": [edge], "language": edge.language}
            [match] = in_transaction(self.store.db, lambda s, c=connection: self.reserve(s, [c], None))
            if match is not None or self.store.has_claim(claim_key(learner)):
                return match  # proposed, or someone else proposed to this learner meanwhile
        return None

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
        made = []
        for learner in waiting[:tries]:
            match = self.propose_for_learner(learner["_id"])
            if match:
                made.append(match)
        return made

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
    """A connect-making round over every open learn interest."""

    def __init__(self, store, config, clock, proposals: Proposals):
        super().__init__(store, config, clock)
        self.proposals = proposals

    def run_round(self) -> dict:
        """Optimal assignment over every open learn interest; 409 while another round runs."""
        round_id = uuid.uuid4().hex
        now = self.clock()
        # A lock document, not a process lock: every API process sees it. Its lease lets a later
        # round start if the process that held it died mid-round.
        try:
            self.store.take_round_lock(round_id, now, now + ROUND_LEASE)
        except DuplicateKeyError as exc:
            raise RoundRunning("a round is already running") from exc
        try:
            self.store.insert_round({"_id": round_id, "status": "running", "started_at": now})
            blocked, connected, loads, capacities, region_share = self.proposals.context()
            busy = self.store.claimed()
            learners = [c for c in self.store.active_interests("learn")
                        if (c["participant_id"], c["topic"]) not in busy]
            sharers = self.store.active_interests("share")
            plan = plan_round(learners, sharers, blocked=blocked, connected=connected, loads=loads,
                              capacities=capacities, region_share=region_share, config=self.config,
                              on=self.reference_day(), now=now)
            proposals, unmatched = [], [{"participant": u["learner"]["participant_id"],
                                         "topic": u["learner"]["topic"], "reason": u["reason"]}
                                        for u in plan.unmatched]
            self.store.ensure_loads([c["sharer"]["participant_id"] for c in plan.connections])
            for start in range(0, len(plan.connections), ROUND_BATCH):
                batch = plan.connections[start:start + ROUND_BATCH]
                made = in_transaction(self.store.db, lambda s, b=batch: self.proposals.reserve(s, b, round_id))
                for connection, match in zip(batch, made):
                    if match is not None:
                        proposals.append(match["_id"])
                        continue
                    # the sharer's last connection was taken meanwhile (or every learner was)
                    unmatched += [{"participant": e.learner["participant_id"], "topic": e.learner["topic"],
                                   "reason": "capacity"} for e in connection["learners"]
                                  if not self.store.has_claim(claim_key(e.learner))]
            summary = {"status": "completed", "finished_at": self.clock(), "proposals": proposals,
                       "unmatched": unmatched, "learners": len(learners), "total_score": plan.total_score,
                       "bound": plan.bound, "proven_optimal": plan.proven, "methods": plan.methods}
            self.store.update_round(round_id, summary)
            return {"_id": round_id, "started_at": now, **summary}
        except Exception:
            self.store.update_round(round_id, {"status": "failed"})
            raise
        finally:
            self.store.release_round_lock(round_id)


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
            update = {"participants": match["participants"], "responded_at": match["responded_at"]}
            if answer.confirmed:
                update.update(status="confirmed", confirmed_at=match["confirmed_at"])
                self.store.outbox.add(session, "match-confirmed", event_data(match))
            self.store.update_match(match_id, update, session=session)
            return match

        return in_transaction(self.store.db, work)

    def expire(self) -> int:
        """Proposals nobody fully answered in time: expired, the sharer's capacity freed."""
        count = 0
        for due in self.store.due_proposals(self.clock()):
            def work(session, match_id=due["_id"]):
                current = self.store.open_match(match_id, "proposed", session)
                if current and responses.is_expired(current, self.clock()):
                    self.closing.close(session, current, "expired", None, "no answer in time")
                    return 1
                return 0
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


class MatcherService:
    """Every use case of the matcher, for the API and the worker's handlers."""

    def __init__(self, store: Store, config: MatcherConfig, clock: Callable[[], datetime] | None = None):
        self.store, self.config = store, config
        self.clock = clock or utcnow
        closing = Closing(store, config, self.clock)
        self.read_model = ReadModel(store, config, self.clock, closing)
        self.proposals = Proposals(store, config, self.clock)
        self.rounds = Rounds(store, config, self.clock, self.proposals)
        self.answers = Answers(store, config, self.clock, closing)
        # the use cases, by name
        self.apply_skill = self.read_model.apply_skill
        self.apply_skill_withdrawn = self.read_model.apply_skill_withdrawn
        self.apply_participant_state = self.read_model.apply_participant_state
        self.apply_participant_withdrawn = self.read_model.apply_participant_withdrawn
        self.propose_for_learner = self.proposals.propose_for_learner
        self.propose_for_sharer = self.proposals.propose_for_sharer
        self.repropose = self.proposals.repropose
        self.reserve = self.proposals.reserve
        self.run_round = self.rounds.run_round
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
        return doc

    def set_capacity(self, participant_id: str, limit: int) -> dict:
        """A sharer's own limit of open connections (open ones above it stay; no new ones)."""
        doc = self.store.set_capacity(participant_id, limit)
        return {"participant": participant_id, "capacity": doc["capacity"], "open": doc.get("open", 0)}

    def ensure_loads(self, people: list[str]) -> None:
        self.store.ensure_loads(people)
