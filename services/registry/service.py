"""The registry's use cases: load -> decide with domain/ -> save state and events in one transaction.

`RegistryService` is what the routes call (`shared.web.service_layer()`): registration, profile
changes, token reissue, erasure, the directory and CSV imports; the taxonomy and emailed
sign-in are use cases of their own (`Taxonomy`, `SignIn`) that it hands out.
"""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from pymongo.errors import DuplicateKeyError

from shared.clock import iso, utcnow, utcnow_iso
from shared.config import Settings
from shared.tokens import (
    DAY, LINK, PARTICIPANT, SCOPES, SubjectErased, SubjectStatus, TokenError, epoch, issue_participant_token,
    verify_token,
)

from services.registry.config import RegistryConfig
from services.registry.domain import directory, profiles, signin
from services.registry.domain.errors import (
    NotEligible, NotFound, RegistryError, SignInRefused, TopicExists, UnknownTopics, UsernameTaken, Withdrawn,
)
from services.registry.domain.imports import ImportReport, row_outcome
from services.registry.domain.taxonomy import (
    check_new_topic, known_topic_codes, localised, merged_categories, require_known_topics,
)
from services.registry.domain.usernames import canonical_username
from services.registry.store import Store


def _new_id() -> str:
    return uuid.uuid4().hex


class Taxonomy:
    """The topic taxonomy: the shared base topics plus those staff added."""

    def __init__(self, store: Store, config: RegistryConfig):
        self.store = store
        self.cache_seconds = config.topics_cache_seconds
        self._added: list[dict] = []
        self._read_at = float("-inf")

    def added_topics(self, fresh: bool = False) -> list[dict]:
        """Cached briefly: every registration checks its topic codes against them."""
        now = time.monotonic()
        if fresh or now - self._read_at > self.cache_seconds:
            self._added = self.store.added_topics()
            self._read_at = now
        return self._added

    def localised(self, language: str | None) -> dict:
        return localised(merged_categories(self.added_topics()), language)

    def add_topic(self, topic: dict) -> dict:
        check_new_topic(topic, self.added_topics(fresh=True))
        try:
            self.store.insert_topic(topic)
        except DuplicateKeyError as exc:  # added by someone else a moment ago
            raise TopicExists(topic["code"]) from exc
        return topic

    def require_known(self, interests: list[dict]) -> None:
        """UnknownTopics naming each interest whose code is neither a base topic nor one staff added."""
        try:
            require_known_topics(interests, known_topic_codes(self.added_topics()))
        except UnknownTopics:
            require_known_topics(interests, known_topic_codes(self.added_topics(fresh=True)))  # added just now


class SignIn:
    """Emailed sign-in links and the sessions they open (domain/signin.py has the rules)."""

    def __init__(self, store: Store, settings: Settings, config: RegistryConfig, token_status):
        self.store = store
        self.settings = settings
        self.session_seconds = config.session_days * DAY
        self.token_status = token_status

    def request(self, email: str, audience: str) -> None:
        """The same outcome for the caller whether or not the address is registered."""
        found = self.store.participants_by_email(profiles.email_key(email), signin.MAX_LINKS_PER_REQUEST) \
            if audience == "participant" else []
        made = signin.requests_for(audience, found, utcnow(), SCOPES["signin"].ttl_seconds, _new_id)
        if made:
            self.store.insert_sign_ins([request for request, _ in made],
                                       [("sign-in-requested", event) for _, event in made])

    def open_session(self, link_token: str) -> dict:
        """A session for the person an emailed sign-in link was sent to, once per link."""
        try:
            link = verify_token(self.settings, link_token, status=self.token_status)
        except SubjectErased as exc:
            raise SignInRefused("this account no longer exists") from exc
        except TokenError as exc:
            raise SignInRefused(f"this sign-in link is not valid ({exc}); ask for a new one") from exc
        if link.kind != LINK or link.scope != "signin":
            raise SignInRefused("this is not a sign-in link")
        now = utcnow()
        signin.check_exchange(self.store.sign_in(link.resource), link.subject, now)
        if not self.store.mark_sign_in(link.resource, signin.PENDING, signin.USED, now):
            raise SignInRefused("this sign-in link was already used; ask for a new one")
        issued = time.time()
        return {"token": issue_participant_token(self.settings, link.subject, now=issued,
                                                 ttl_seconds=self.session_seconds),
                "participant": link.subject,
                "expires_at": iso(datetime.fromtimestamp(issued + self.session_seconds, timezone.utc), "seconds")}

    def purge_expired(self) -> int:
        return self.store.delete_sign_ins_expired_before(utcnow())


class RegistryService:
    """Participants: registration, changes, reissue, erasure; the directory; CSV imports."""

    def __init__(self, store: Store, settings: Settings, config: RegistryConfig | None = None):
        config = config or RegistryConfig()
        self.store = store
        self.settings = settings
        self.taxonomy = Taxonomy(store, config)
        self.sign_in = SignIn(store, settings, config, self.token_status)

    def register(self, body: dict, source: str = "api"):
        """(profile, session token, verdict); NotEligible, UnknownTopics or UsernameTaken."""
        profile, verdict = profiles.new_profile(body, participant_id=_new_id(), now=utcnow_iso(),
                                                directory_suffix=_new_id()[:6], source=source)
        self.taxonomy.require_known(body["interests"])
        try:
            self.store.insert_participant(profile, profiles.change_events({}, profile))
        except DuplicateKeyError as exc:
            raise UsernameTaken(profile["username"]) from exc
        return profile, issue_participant_token(self.settings, profile["_id"]), verdict

    def profile(self, participant_id: str) -> dict:
        found = self.store.participant(participant_id)
        if found is None:
            if self.store.has_tombstone(profiles.tombstone_id(participant_id)):
                raise Withdrawn(participant_id)
            raise NotFound(participant_id)
        return found

    def update(self, participant_id: str, changes: dict) -> dict:
        before = self.profile(participant_id)
        after = profiles.changed_profile(before, changes, utcnow_iso())
        if "interests" in changes:
            self.taxonomy.require_known(changes["interests"])
        if after is not before:
            self.store.replace_participant(before, after, profiles.change_events(before, after))
        return after

    def reissue_token(self, participant_id: str) -> tuple[str, str]:
        """Sign me out everywhere: a new session, and every older token of this person (sessions,
        emailed links) stops working in every service (the cut-off travels in participant-updated)."""
        before = self.profile(participant_id)
        # The cut-off keeps microseconds and the new token is issued at that very instant: a token
        # issued earlier in the same second is refused, the new one is not.
        now = round(time.time(), 6)
        valid_after = iso(datetime.fromtimestamp(now, timezone.utc), "microseconds")
        after = profiles.reissued(before, valid_after, utcnow_iso())
        self.store.replace_participant(before, after, profiles.change_events(before, after))
        return issue_participant_token(self.settings, participant_id, now=now), valid_after

    def withdraw(self, participant_id: str) -> None:
        """Erase the person: the profile and pending sign-in links go, an anonymous tombstone stays."""
        tombstone, event = profiles.erased(self.profile(participant_id), utcnow_iso())
        self.store.erase_participant(participant_id, tombstone, [("participant-withdrawn", event)])

    def token_status(self, kind: str, subject: str) -> SubjectStatus | None:
        """The registry is the source of truth: the profile's cut-off, or its erasure."""
        if kind != PARTICIPANT:
            return None
        exists, valid_after = self.store.tokens_valid_after(subject)
        if exists:
            return SubjectStatus(valid_after=epoch(valid_after))
        if self.store.has_tombstone(profiles.tombstone_id(subject)):
            return SubjectStatus(erased=True)
        return None

    def directory(self, filters: dict, after: str | None, limit: int) -> tuple[list[dict], str | None]:
        """(entries, position of the next page or None)."""
        found = self.store.directory(directory.conditions(**filters), after, limit + 1)
        return directory.page(found, limit)

    def import_rows(self, rows: list[tuple[int, dict | None, dict | None]]) -> dict:
        """Each (line, valid body or None, field errors or None) created, updated, unchanged or
        rejected; the report of every row."""
        report = ImportReport()
        for line, body, errors in rows:
            if body is None:
                report.record(line, "rejected", errors=errors)
                continue
            existing = self.store.participant_by_username(canonical_username(body["username"]))
            try:
                if existing is None:
                    saved, _token, _verdict = self.register(body, source="import")
                else:
                    saved = self.update(existing["_id"], {k: v for k, v in body.items() if k != "username"})
            except NotEligible as exc:
                report.record(line, "rejected", eligibility=exc.verdict.as_dict())
            except UnknownTopics as exc:
                report.record(line, "rejected", errors=exc.errors)
            except RegistryError as exc:
                report.record(line, "rejected", errors={"row": [str(exc)]})
            else:
                report.record(line, row_outcome(existing, saved), id=saved["_id"])
        return report.as_dict()
