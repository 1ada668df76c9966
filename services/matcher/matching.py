"""The matcher's service layer: read model upkeep, proposals (incremental and rounds),
responses, expiry and outcomes; every change with its events in one transaction."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from pymongo import ReturnDocument, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from shared.mongo import in_transaction

from services.matcher.assignment import Edge, explain, feasible_edges, plan_round
from services.matcher.config import MatcherConfig
from services.matcher.rules import pair_key
from services.matcher.store import Store

OPEN = ("proposed", "confirmed")
ROUND_BATCH = 200  # proposals written per transaction in a round
ROUND_LEASE = timedelta(minutes=30)  # a round lock older than this was left by a process that died


class MatchError(Exception):
    status = 409


class NotFound(MatchError):
    status = 404


class Forbidden(MatchError):
    status = 403


class RoundRunning(MatchError):
    status = 409


def _aware(moment: datetime) -> datetime:
    """MongoDB hands datetimes back without a zone; they are UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def interest_id(data: dict) -> str:
    return f"{data['participant_id']}:{data['topic']}:{data['direction']}"


class Matcher:
    def __init__(self, store: Store, config: MatcherConfig, clock: Callable[[], datetime] | None = None):
        self.store = store
        self.config = config
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    # ------------------------------------------------------------------ read model
    def _withdrawn(self, session, participant_id: str) -> bool:
        person = self.store.people.find_one({"_id": participant_id}, session=session) or {}
        return bool(person.get("withdrawn"))

    def apply_skill(self, session, data: dict) -> None:
        # Order per interest: the registry re-announces every interest when its owner's attributes
        # change, so an interest's own revision says which copy is newer.
        if self._withdrawn(session, data["participant_id"]):
            return
        self.store.people.update_one({"_id": data["participant_id"]}, {"$max": {"revision": data["revision"]}},
                                     upsert=True, session=session)
        doc = {k: data.get(k) for k in ("participant_id", "topic", "direction", "note", "level", "languages",
                                        "timezone", "region", "group", "share_contact", "registered_at", "revision")}
        existing = self.store.candidates.find_one({"_id": interest_id(data)}, session=session)
        if existing and existing.get("revision", 0) > data["revision"]:
            return
        self.store.candidates.replace_one({"_id": interest_id(data)}, {"_id": interest_id(data), **doc,
                                                                      "active": True}, upsert=True, session=session)

    def apply_skill_withdrawn(self, session, data: dict) -> None:
        existing = self.store.candidates.find_one({"_id": interest_id(data)}, session=session)
        if existing and existing.get("revision", 0) > data["revision"]:
            return
        self.store.candidates.update_one({"_id": interest_id(data)},
                                         {"$set": {"active": False, "revision": data["revision"],
                                                   "participant_id": data["participant_id"], "topic": data["topic"],
                                                   "direction": data["direction"]}},
                                         upsert=True, session=session)
        # A proposal on an interest its owner no longer has will not be taken up; a connection
        # already agreed on goes ahead.
        role = "learner" if data["direction"] == "learn" else "sharer"
        for match in self.store.matches.find({"topic": data["topic"], "status": "proposed", "participants": {
                "$elemMatch": {"id": data["participant_id"], "role": role}}}, session=session):
            self._close(session, match, "withdrawn", data["participant_id"], "the interest was withdrawn")

    def apply_participant_state(self, session, data: dict) -> None:
        """participant-registered / -updated: only when tokens issued before a reissue stop working
        (the rest reaches the matcher with each interest)."""
        person = self.store.people.find_one({"_id": data["participant_id"]}, session=session) or {}
        if person.get("withdrawn") or data["revision"] < person.get("state_revision", 0):
            return
        self.store.people.update_one({"_id": data["participant_id"]}, {"$set": {
            "state_revision": data["revision"]}},
            upsert=True, session=session)

    def apply_participant_withdrawn(self, session, data: dict) -> None:
        pid = data["participant_id"]
        self.store.people.update_one({"_id": pid}, {"$set": {"withdrawn": True, "revision": data["revision"]}},
                                     upsert=True, session=session)
        self.store.candidates.delete_many({"participant_id": pid}, session=session)
        for match in self.store.matches.find({"participants.id": pid, "status": {"$in": list(OPEN)}},
                                             session=session):
            self._close(session, match, "withdrawn", pid, "a participant left the program")
        self.store.matches.update_many({"participants.id": pid},
                                       {"$set": {"participants.$[p].withdrawn": True}},
                                       array_filters=[{"p.id": pid}], session=session)

    def set_capacity(self, participant_id: str, capacity: int) -> dict:
        """A sharer's own limit of open connections (open ones above it stay; no new ones)."""
        doc = self.store.loads.find_one_and_update(
            {"_id": participant_id}, {"$set": {"capacity": capacity}, "$setOnInsert": {"open": 0}}, upsert=True,
            return_document=ReturnDocument.AFTER)
        return {"participant": participant_id, "capacity": doc["capacity"], "open": doc.get("open", 0)}

    # ------------------------------------------------------------------ context
    def _context(self, learner: dict | None = None, sharers: list[dict] | None = None):
        """What the rules and the score need beyond the two people: declined and connected pairs,
        sharers' open connections and capacities, each region's share of sharers. For one learner
        (incremental mode) only their own pairs and the candidate sharers' loads are read."""
        now = self.clock()
        mine = {"people": learner["participant_id"]} if learner else {}
        blocked = {doc["_id"] for doc in self.store.blocks.find(mine)
                   if doc.get("until") is None or _aware(doc["until"]) > now}
        connected = {(doc["pair"], doc["topic"]) for doc in self.store.connected.find({**mine, "until": {"$gt": now}})}
        which = {"_id": {"$in": sorted({s["participant_id"] for s in sharers})}} if sharers is not None else {}
        docs = list(self.store.loads.find(which))
        loads = {doc["_id"]: doc.get("open", 0) for doc in docs}
        capacities = {doc["_id"]: doc["capacity"] for doc in docs if "capacity" in doc}
        return blocked, connected, loads, capacities, self._region_share(fresh=learner is None)

    def _region_share(self, fresh: bool) -> dict[str, float]:
        """Each region's share of the active sharers; incremental proposals reuse it for a minute."""
        now = self.clock()
        cached = getattr(self, "_regions", None)
        if fresh or cached is None or now - cached[0] > timedelta(seconds=60):
            counts: dict[str, int] = {}
            for doc in self.store.candidates.find({"direction": "share", "active": True}, {"region": 1}):
                counts[doc["region"]] = counts.get(doc["region"], 0) + 1
            total = sum(counts.values()) or 1
            self._regions = (now, {region: count / total for region, count in counts.items()})
        return self._regions[1]

    def reference_day(self) -> date:
        return (self.clock() + timedelta(days=7)).date()

    def _has_open_match(self, learner: dict, session=None) -> bool:
        return self.store.claims.find_one({"_id": self._claim_key(learner)}, {"_id": 1}, session=session) is not None

    # ------------------------------------------------------------------ proposals
    def _ensure_loads(self, people: list[str]) -> None:
        """Sharers' load documents exist before any transaction reserves from them."""
        if not people:
            return
        try:
            self.store.loads.bulk_write([UpdateOne({"_id": person}, {"$setOnInsert": {"open": 0}}, upsert=True)
                                         for person in sorted(set(people))], ordered=False)
        except BulkWriteError as error:  # another worker created some at the same moment
            if any(e.get("code") != 11000 for e in error.details.get("writeErrors", [])):
                raise

    def _create_many(self, session, connections: list[dict], round_id: str | None) -> list[dict | None]:
        """Proposals and their events, in one transaction, for the connections whose sharer still
        has a free connection; a learner with an open proposal on the topic (made meanwhile by
        another worker or the incremental mode) is left out. Returns a match or None per connection.

        Two guards make concurrent writers safe: the sharer's `open` count is raised only if it is
        still the value read (a conditional update; a concurrent change fails it or conflicts the
        transaction, which is retried), and each learner interest holds one claim document while
        its proposal is open (upserted: of two racing transactions, one conflicts and retries)."""
        now = self.clock()
        people = sorted({c["sharer"]["participant_id"] for c in connections})
        loads = {doc["_id"]: doc for doc in self.store.loads.find({"_id": {"$in": people}}, session=session)}
        wanted: dict[str, int] = {}
        for connection in connections:
            wanted[connection["sharer"]["participant_id"]] = wanted.get(connection["sharer"]["participant_id"], 0) + 1
        granted: dict[str, int] = {person: 0 for person in people}
        raises = []
        for person in people:
            doc = loads.get(person)
            if doc is None:
                continue
            count = min(wanted[person], doc.get("capacity", self.config.sharer_capacity) - doc.get("open", 0))
            if count > 0:
                granted[person] = count
                raises.append(UpdateOne({"_id": person, "open": doc.get("open", 0)}, {"$inc": {"open": count}}))
        if raises:
            done = self.store.loads.bulk_write(raises, ordered=True, session=session)
            if done.matched_count != len(raises):  # someone's count moved: see whose raise went through
                after = {doc["_id"]: doc.get("open", 0) for doc in self.store.loads.find(
                    {"_id": {"$in": people}}, session=session)}
                for person in people:
                    if granted[person] and after.get(person) != loads[person].get("open", 0) + granted[person]:
                        granted[person] = 0
        taken = []
        for connection in connections:
            person = connection["sharer"]["participant_id"]
            if granted[person] > 0:
                granted[person] -= 1
                taken.append((connection, uuid.uuid4().hex))
        claims = [(match_id, edge) for connection, match_id in taken for edge in connection["learners"]]
        claimed = set()
        if claims:
            result = self.store.claims.bulk_write(
                [UpdateOne({"_id": self._claim_key(edge.learner)}, {"$setOnInsert": {"match_id": match_id}},
                           upsert=True) for match_id, edge in claims], ordered=True, session=session)
            claimed = {id(claims[index][1]) for index in result.upserted_ids}
        made: dict[int, dict] = {}
        for connection, match_id in taken:
            learners = [edge for edge in connection["learners"] if id(edge) in claimed]
            if learners:
                made[id(connection)] = self._match_doc(match_id, connection["sharer"], learners, connection["language"],
                                                      round_id, now)
            # else everyone was proposed to meanwhile: the connection is given back below
        returned = {}
        for connection, _ in taken:
            if id(connection) not in made:
                person = connection["sharer"]["participant_id"]
                returned[person] = returned.get(person, 0) + 1
        for person, count in sorted(returned.items()):
            self.store.loads.update_one({"_id": person}, {"$inc": {"open": -count}}, session=session)
        matches = list(made.values())
        if matches:
            self.store.matches.insert_many(matches, ordered=True, session=session)
            self.store.outbox.add_many(session, [("match-proposed", self.event_data(m)) for m in matches])
        return [made.get(id(connection)) for connection in connections]

    @staticmethod
    def _claim_key(learner: dict) -> str:
        return f"{learner['participant_id']}:{learner['topic']}"

    def _match_doc(self, match_id: str, sharer: dict, edges: list[Edge], language: str, round_id: str | None,
                   now: datetime) -> dict:
        members = [{"id": sharer["participant_id"], "role": "sharer", "response": None,
                    "share_contact": bool(sharer.get("share_contact"))}]
        members += [{"id": e.learner["participant_id"], "role": "learner", "response": None,
                     "share_contact": bool(e.learner.get("share_contact"))} for e in edges]
        return {"_id": match_id, "topic": sharer["topic"], "language": language, "participants": members,
                "status": "proposed", "reasons": list(dict.fromkeys(r for e in edges for r in e.reasons)),
                "reason_codes": list(dict.fromkeys(c for e in edges for c in e.codes)),
                "score": round(sum(e.score for e in edges), 4), "round_id": round_id,
                "created_at": now, "expires_at": now + timedelta(days=self.config.response_days),
                "waited_seconds": [self._waited(e.learner, now) for e in edges]}

    def _waited(self, learner: dict, now: datetime) -> float:
        if not learner.get("registered_at"):
            return 0.0
        return max(0.0, (now - datetime.fromisoformat(learner["registered_at"].replace("Z", "+00:00"))).total_seconds())

    def event_data(self, match: dict, **extra) -> dict:
        return {"match_id": match["_id"], "topic": match["topic"], "language": match["language"],
                "participants": [{"participant_id": m["id"], "role": m["role"], "response": m["response"],
                                  "share_contact": m["share_contact"]} for m in match["participants"]],
                "reasons": match["reasons"], "reason_codes": match["reason_codes"], "score": match["score"],
                "round_id": match.get("round_id"), "expires_at": iso(match["expires_at"]), **extra}

    def propose_for_learner(self, learner_id: str) -> dict | None:
        """Incremental mode: the best feasible 1:1 proposal for one learn interest, if its score
        reaches the threshold and the sharer has a free connection."""
        learner = self.store.candidates.find_one({"_id": learner_id, "active": True})
        if not learner or learner["direction"] != "learn" or self._has_open_match(learner):
            return None
        sharers = list(self.store.candidates.find({"topic": learner["topic"], "direction": "share", "active": True}))
        blocked, connected, loads, capacities, region_share = self._context(learner, sharers)
        edges, _ = feasible_edges([learner], sharers, blocked=blocked, connected=connected, loads=loads,
                                  region_share=region_share, config=self.config, on=self.reference_day(),
                                  now=self.clock())
        edges.sort(key=lambda e: (-e.score, e.bucket))
        for edge in edges:
            person = edge.sharer["participant_id"]
            if edge.score < self.config.proposal_threshold:
                break
            if loads.get(person, 0) >= capacities.get(person, self.config.sharer_capacity):
                continue
            self._ensure_loads([person])
            explain([edge], loads=loads, region_share=region_share, config=self.config, on=self.reference_day(),
                    now=self.clock())
            connection = {"sharer": edge.sharer, "learners": [edge], "language": edge.language}
            [match] = in_transaction(self.store.db, lambda s, c=connection: self._create_many(s, [c], None))
            if match is not None or self._has_open_match(learner):
                return match  # proposed, or someone else proposed to this learner meanwhile
        return None

    def propose_for_sharer(self, sharer_id: str, tries: int = 50) -> list[dict]:
        """A new (or freed) share interest: the learners of that topic who have waited longest and
        have no open proposal each get their best proposal (which may be with another sharer)."""
        sharer = self.store.candidates.find_one({"_id": sharer_id, "active": True})
        if not sharer or sharer["direction"] != "share":
            return []
        busy = self._open_learner_topics()
        waiting = [learner for learner in self.store.candidates.find(
            {"topic": sharer["topic"], "direction": "learn", "active": True}, {"participant_id": 1, "registered_at": 1,
                                                                               "topic": 1})
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
        for member in data["participants"]:
            if data.get("cause") == "expired" and member.get("response") != "accept":
                continue  # who did not answer waits for the next round
            if member["participant_id"] == data.get("participant_id"):
                continue  # the one who declined or left is not proposed again right away
            if member["role"] == "learner":
                match = self.propose_for_learner(f"{member['participant_id']}:{data['topic']}:learn")
                made += [match] if match else []
            else:
                made += self.propose_for_sharer(f"{member['participant_id']}:{data['topic']}:share")
        return made

    def run_round(self) -> dict:
        """Optimal assignment over every open learn interest; 409 while another round runs."""
        round_id = uuid.uuid4().hex
        now = self.clock()
        # A lock document, not a process lock: every API process sees it. Its lease lets a later
        # round start if the process that held it died mid-round.
        self.store.locks.delete_one({"_id": "round", "lease_until": {"$lt": now}})
        try:
            self.store.locks.insert_one({"_id": "round", "round_id": round_id, "started_at": now,
                                         "lease_until": now + ROUND_LEASE})
        except DuplicateKeyError as exc:
            raise RoundRunning("a round is already running") from exc
        try:
            self.store.rounds.insert_one({"_id": round_id, "status": "running", "started_at": now})
            blocked, connected, loads, capacities, region_share = self._context()
            busy = self._open_learner_topics()
            learners = [c for c in self.store.candidates.find({"direction": "learn", "active": True})
                        if (c["participant_id"], c["topic"]) not in busy]
            sharers = list(self.store.candidates.find({"direction": "share", "active": True}))
            plan = plan_round(learners, sharers, blocked=blocked, connected=connected, loads=loads,
                              capacities=capacities, region_share=region_share, config=self.config,
                              on=self.reference_day(), now=now)
            proposals, unmatched = [], [{"participant": u["learner"]["participant_id"],
                                         "topic": u["learner"]["topic"], "reason": u["reason"]}
                                        for u in plan.unmatched]
            self._ensure_loads([c["sharer"]["participant_id"] for c in plan.connections])
            for start in range(0, len(plan.connections), ROUND_BATCH):
                batch = plan.connections[start:start + ROUND_BATCH]
                made = in_transaction(self.store.db, lambda s, b=batch: self._create_many(s, b, round_id))
                for connection, match in zip(batch, made):
                    if match is not None:
                        proposals.append(match["_id"])
                        continue
                    # the sharer's last connection was taken meanwhile (or every learner was)
                    unmatched += [{"participant": e.learner["participant_id"], "topic": e.learner["topic"],
                                   "reason": "capacity"} for e in connection["learners"]
                                  if not self._has_open_match(e.learner)]
            summary = {"status": "completed", "finished_at": self.clock(), "proposals": proposals,
                       "unmatched": unmatched, "learners": len(learners), "total_score": plan.total_score,
                       "bound": plan.bound, "proven_optimal": plan.proven, "methods": plan.methods}
            self.store.rounds.update_one({"_id": round_id}, {"$set": summary})
            return {"_id": round_id, "started_at": now, **summary}
        except Exception:
            self.store.rounds.update_one({"_id": round_id}, {"$set": {"status": "failed"}})
            raise
        finally:
            self.store.locks.delete_one({"_id": "round", "round_id": round_id})

    def _open_learner_topics(self) -> set[tuple[str, str]]:
        """(learner, topic) of every open proposal or connection: their claims."""
        return {tuple(doc["_id"].rsplit(":", 1)) for doc in self.store.claims.find({}, {"_id": 1})}

    # ------------------------------------------------------------------ responses
    def get(self, match_id: str) -> dict:
        match = self.store.matches.find_one({"_id": match_id})
        if match is None:
            raise NotFound("no such match")
        return match

    def respond(self, match_id: str, participant_id: str, response: str, reason: str | None) -> dict:
        def work(session):
            match = self.store.matches.find_one({"_id": match_id}, session=session)
            if match is None:
                raise NotFound("no such match")
            member = next((m for m in match["participants"] if m["id"] == participant_id), None)
            if member is None:
                raise Forbidden("you are not part of this match")
            if match["status"] != "proposed":
                raise MatchError(f"this match is {match['status']}; it takes no more answers")
            member["response"] = response
            member["reason"] = reason
            event = "match-accepted" if response == "accept" else "match-declined"
            self.store.outbox.add(session, event, self.event_data(match, participant_id=participant_id,
                                                                  reason=reason, cause="responded"))
            if response == "decline":
                self._close(session, match, "declined", participant_id, reason, emit=False)
                # The pair is not proposed again: a learner and the sharer, or the sharer and each learner.
                sharer = next(m["id"] for m in match["participants"] if m["role"] == "sharer")
                others = ([m["id"] for m in match["participants"] if m["role"] == "learner"]
                          if participant_id == sharer else [sharer])
                for other in others:
                    self.store.blocks.update_one({"_id": pair_key(participant_id, other)},
                                                 {"$set": {"at": self.clock(), "people": [participant_id, other]},
                                                  "$unset": {"until": ""}}, upsert=True, session=session)
                return self.store.matches.find_one({"_id": match_id}, session=session)
            update = {"participants": match["participants"], "responded_at": self.clock()}
            if all(m["response"] == "accept" for m in match["participants"]):
                update.update(status="confirmed", confirmed_at=self.clock())
                match.update(update)
                self.store.outbox.add(session, "match-confirmed", self.event_data(match))
            self.store.matches.update_one({"_id": match_id}, {"$set": update}, session=session)
            return {**match, **update}

        return in_transaction(self.store.db, work)

    def _close(self, session, match: dict, status: str, participant_id: str | None, reason: str | None,
               emit: bool = True) -> None:
        self.store.matches.update_one({"_id": match["_id"]}, {"$set": {
            "status": status, "closed_at": self.clock(), "participants": match["participants"],
            "close_reason": reason}}, session=session)
        sharer = next(m["id"] for m in match["participants"] if m["role"] == "sharer")
        self.store.loads.update_one({"_id": sharer, "open": {"$gt": 0}}, {"$inc": {"open": -1}}, session=session)
        self.store.claims.delete_many({"match_id": match["_id"]}, session=session)
        if status == "expired":  # not proposed to each other again until the cooldown has passed
            until = self.clock() + timedelta(days=self.config.cooldown_days)
            for member in match["participants"]:
                pair = pair_key(member["id"], sharer)
                existing = self.store.blocks.find_one({"_id": pair}, session=session)
                if member["id"] != sharer and (existing is None or existing.get("until") is not None):
                    self.store.blocks.update_one({"_id": pair}, {"$set": {"until": until,
                                                                          "people": [member["id"], sharer]}},
                                                 upsert=True, session=session)
        if emit:
            cause = "expired" if status == "expired" else "responded"
            self.store.outbox.add(session, "match-declined", self.event_data(
                match, participant_id=participant_id, reason=reason, cause=cause))

    def expire(self) -> int:
        """Proposals nobody fully answered in time: expired, the sharer's capacity freed."""
        count = 0
        for match in self.store.matches.find({"status": "proposed", "expires_at": {"$lte": self.clock()}}):
            def work(session, match_id=match["_id"]):
                current = self.store.matches.find_one({"_id": match_id, "status": "proposed"}, session=session)
                if current:
                    self._close(session, current, "expired", None, "no answer in time")
                    return 1
                return 0
            count += in_transaction(self.store.db, work)
        return count

    def outcome(self, match_id: str, participant_id: str, summary: str) -> dict:
        def work(session):
            match = self.store.matches.find_one({"_id": match_id}, session=session)
            if match is None:
                raise NotFound("no such match")
            if all(m["id"] != participant_id for m in match["participants"]):
                raise Forbidden("you are not part of this match")
            if match["status"] != "confirmed":
                raise MatchError(f"an outcome needs a confirmed connection; this one is {match['status']}")
            now = self.clock()
            update = {"status": "completed", "summary": summary, "completed_at": now, "reported_by": participant_id}
            self.store.matches.update_one({"_id": match_id}, {"$set": update}, session=session)
            sharer = next(m["id"] for m in match["participants"] if m["role"] == "sharer")
            self.store.loads.update_one({"_id": sharer, "open": {"$gt": 0}}, {"$inc": {"open": -1}}, session=session)
            self.store.claims.delete_many({"match_id": match_id}, session=session)
            until = now + timedelta(days=self.config.cooldown_days)
            for member in match["participants"]:
                if member["id"] != sharer:
                    self.store.connected.update_one({"_id": f"{pair_key(member['id'], sharer)}:{match['topic']}"},
                                                    {"$set": {"pair": pair_key(member["id"], sharer),
                                                              "people": [member["id"], sharer],
                                                              "topic": match["topic"], "until": until}},
                                                    upsert=True, session=session)
            match.update(update)
            self.store.outbox.add(session, "connection-completed", self.event_data(
                match, summary=summary, completed_at=iso(now), reported_by=participant_id))
            return match

        return in_transaction(self.store.db, work)
