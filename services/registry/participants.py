"""The registry's service layer: registration, profile changes, erasure; every change and its
events in one transaction through the outbox."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from shared.clock import iso
from shared.tokens import PARTICIPANT, SubjectStatus, epoch, issue_participant_token
from shared.config import Settings
from shared.events import utcnow_iso
from shared.mongo import write_atomically

from services.registry import eligibility
from services.registry.skills import participant_state, skill_changes, skill_registered, skill_withdrawn
from services.registry.store import Store
from services.registry.taxonomy import known_topic_codes
from services.registry.usernames import canonical_username

CONSENT_FLAGS = ("public_profile", "share_contact", "recording")


class RegistryError(Exception):
    pass


class UsernameTaken(RegistryError):
    pass


class NotEligible(RegistryError):
    def __init__(self, verdict: eligibility.Verdict):
        super().__init__("not eligible")
        self.verdict = verdict


class UnknownTopics(RegistryError):
    def __init__(self, errors: dict):
        super().__init__("unknown topics")
        self.errors = errors


class NotFound(RegistryError):
    pass


class Withdrawn(RegistryError):
    pass


def _interests(interests: list[dict]) -> list[dict]:
    """One shape for every stored interest, so comparing old and new finds only real changes."""
    return [{"topic": i["topic"], "direction": i["direction"], "note": i.get("note"), "level": i.get("level")}
            for i in interests]


def _consent(consent: dict, before: dict | None, now: str) -> dict:
    """Flags plus the time each was given (kept from before while it stays given)."""
    given_at = dict((before or {}).get("given_at", {}))
    for flag in CONSENT_FLAGS:
        if consent[flag] and not (before or {}).get(flag):
            given_at[flag] = now
        elif not consent[flag]:
            given_at[flag] = None
    return {**{flag: bool(consent[flag]) for flag in CONSENT_FLAGS}, "given_at": given_at}


class Registry:
    def __init__(self, store: Store, settings: Settings):
        self.store = store
        self.settings = settings
        self._topics: list[dict] = []
        self._topics_read_at = float("-inf")

    TOPICS_CACHE_SECONDS = 5.0

    def added_topics(self, fresh: bool = False) -> list[dict]:
        """Staff-added topics; cached briefly since every registration checks its topic codes."""
        now = time.monotonic()
        if fresh or now - self._topics_read_at > self.TOPICS_CACHE_SECONDS:
            self._topics = list(self.store.topics.find({}, {"_id": 0}))
            self._topics_read_at = now
        return self._topics

    def _check_topics(self, interests: list[dict]) -> None:
        known = known_topic_codes(self.added_topics())
        if any(interest["topic"] not in known for interest in interests):
            known = known_topic_codes(self.added_topics(fresh=True))  # a topic added a moment ago
        errors = {index: {"topic": [f"unknown topic code {interest['topic']!r} (see GET /taxonomy)"]}
                  for index, interest in enumerate(interests) if interest["topic"] not in known}
        if errors:
            raise UnknownTopics({"interests": errors})


    def _events_staged(self, before: dict, after: dict, first: bool) -> InsertOne:
        announce, withdraw = skill_changes(before, after)
        events = [("participant-registered" if first else "participant-updated", participant_state(after))]
        events += [("skill-registered", skill_registered(after, i)) for i in announce]
        events += [("skill-withdrawn", skill_withdrawn(after, i)) for i in withdraw]
        return self.store.outbox.insert_operation(events)

    def register(self, body: dict, source: str = "api") -> tuple[dict, str, eligibility.Verdict]:
        verdict = eligibility.check(body["group"], body["role"], body["purpose"])
        if not verdict.eligible:
            raise NotEligible(verdict)
        self._check_topics(body["interests"])
        username = canonical_username(body["username"])
        now = utcnow_iso()
        profile = {
            "_id": uuid.uuid4().hex, "revision": 1, "username": username, "username_key": username,
            "directory_key": f"{username.casefold()}\x00{uuid.uuid4().hex[:6]}",
            **{k: body[k] for k in ("name", "email", "languages", "timezone", "region", "group", "role",
                                     "purpose", "activities")},
            "interests": _interests(body["interests"]),
            "consent": _consent(body["consent"], None, now), "registered_at": now, "updated_at": now,
            "tokens_valid_after": None, "source": source,
        }

        try:
            write_atomically(self.store.db, [InsertOne(profile, namespace=self.store.participants.full_name),
                                             self._events_staged({}, profile, first=True)])
        except DuplicateKeyError as exc:
            raise UsernameTaken(username) from exc
        return profile, issue_participant_token(self.settings, profile["_id"]), verdict

    def get(self, participant_id: str) -> dict:
        profile = self.store.participants.find_one({"_id": participant_id})
        if profile is None:
            if self.store.withdrawn.find_one({"_id": participant_id}):
                raise Withdrawn(participant_id)
            raise NotFound(participant_id)
        return profile

    def find_by_username(self, username: str) -> dict | None:
        return self.store.participants.find_one({"username_key": canonical_username(username)})

    def update(self, participant_id: str, changes: dict) -> dict:
        before = self.get(participant_id)
        after = {**before, **{k: v for k, v in changes.items() if k not in ("consent", "interests")}}
        if "interests" in changes:
            after["interests"] = _interests(changes["interests"])
        if "consent" in changes:
            after["consent"] = _consent(changes["consent"], before["consent"], utcnow_iso())
        verdict = eligibility.check(after["group"], after["role"], after["purpose"])
        if not verdict.eligible:
            raise NotEligible(verdict)
        if "interests" in changes:
            self._check_topics(changes["interests"])
        if after == before:
            return before
        after["revision"] = before["revision"] + 1
        after["updated_at"] = utcnow_iso()
        self._save(before, after)
        return after

    def _save(self, before: dict, after: dict) -> None:
        def unchanged_since_read(result) -> None:
            if result.matched_count != 1:
                raise RegistryError("profile changed concurrently; try again")

        replace = ReplaceOne({"_id": before["_id"], "revision": before["revision"]}, after,
                             namespace=self.store.participants.full_name)
        write_atomically(self.store.db, [replace, self._events_staged(before, after, first=False)],
                         check=unchanged_since_read)

    def reissue_token(self, participant_id: str) -> tuple[str, str]:
        """A new token; every older one stops working everywhere (other services learn the cut-off)."""
        before = self.get(participant_id)
        # The cut-off keeps microseconds, and the new token is issued at that very instant: a token
        # issued earlier in the same second is refused, the new one is not.
        now = round(time.time(), 6)
        valid_after = iso(datetime.fromtimestamp(now, timezone.utc), "microseconds")
        after = {**before, "tokens_valid_after": valid_after, "revision": before["revision"] + 1,
                 "updated_at": utcnow_iso()}
        self._save(before, after)
        return issue_participant_token(self.settings, participant_id, now=now), valid_after

    def token_status(self, kind: str, subject: str) -> SubjectStatus | None:
        """The registry is the source of truth: the profile's cut-off, or its erasure."""
        if kind != PARTICIPANT:
            return None
        profile = self.store.participants.find_one({"_id": subject}, {"tokens_valid_after": 1})
        if profile is not None:
            return SubjectStatus(valid_after=epoch(profile.get("tokens_valid_after")))
        if self.store.withdrawn.find_one({"_id": subject}, {"_id": 1}) is not None:
            return SubjectStatus(erased=True)
        return None

    def withdraw(self, participant_id: str) -> None:
        """Erase the person: the profile goes, a tombstone without personal data stays."""
        profile = self.get(participant_id)
        now = utcnow_iso()
        revision = profile["revision"] + 1

        store = self.store
        write_atomically(store.db, [
            DeleteOne({"_id": participant_id}, namespace=store.participants.full_name),
            InsertOne({"_id": participant_id, "revision": revision, "withdrawn_at": now},
                      namespace=store.withdrawn.full_name),
            UpdateOne({"_id": "withdrawn"}, {"$inc": {"count": 1}}, upsert=True, namespace=store.counters.full_name),
            store.outbox.insert_operation([("participant-withdrawn", {"participant_id": participant_id,
                                                                      "revision": revision, "withdrawn_at": now})]),
        ])
