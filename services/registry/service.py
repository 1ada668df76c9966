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

from shared import audit
from shared.clock import iso, utcnow, utcnow_iso
from shared.config import Settings
from shared.tokens import (
    DAY, LINK, PARTICIPANT, SCOPES, STAFF, Principal, SubjectErased, SubjectStatus, TokenError, epoch,
    issue_participant_token, issue_staff_token, verify_token,
)

from services.registry.config import RegistryConfig
from services.registry.domain import directory, profiles, signin, staff
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
        key = profiles.email_key(email)
        found = (self.store.participants_by_email(key, signin.MAX_LINKS_PER_REQUEST) if audience == "participant"
                 else self.store.active_staff_by_email(key, signin.MAX_LINKS_PER_REQUEST))
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
        request = self.store.sign_in(link.resource)
        signin.check_exchange(request, link.subject, now)
        account = None
        if request.get("audience") == "staff":
            account = self.store.staff_account(link.subject)
            if account is None or account["status"] != staff.ACTIVE:
                raise SignInRefused("this staff account no longer exists")
        if not self.store.mark_sign_in(link.resource, signin.PENDING, signin.USED, now):
            raise SignInRefused("this sign-in link was already used; ask for a new one")
        issued = time.time()
        if account is not None:
            return self._staff_session(account, issued)
        return {"token": issue_participant_token(self.settings, link.subject, now=issued,
                                                 ttl_seconds=self.session_seconds),
                "participant": link.subject,
                "expires_at": iso(datetime.fromtimestamp(issued + self.session_seconds, timezone.utc), "seconds")}

    def _staff_session(self, account: dict, issued: float) -> dict:
        """A signed staff token carrying the account's id and its roles as they are now."""
        seconds = self.settings.staff_token_ttl_hours * 3600
        return {"token": issue_staff_token(self.settings, account["_id"], account["roles"], now=issued),
                "staff": account["_id"], "roles": list(account["roles"]), "name": account.get("name"),
                "expires_at": iso(datetime.fromtimestamp(issued + seconds, timezone.utc), "seconds")}

    def purge_expired(self) -> int:
        return self.store.delete_sign_ins_expired_before(utcnow())


class StaffAccounts:
    """Named staff accounts (domain/staff.py): coordinators add, change and remove them; each change
    is announced (staff-account-changed) and audited in the same transaction."""

    def __init__(self, store: Store):
        self.store = store

    def listing(self, include_removed: bool = False) -> list[dict]:
        return self.store.staff_accounts(include_removed)

    def get(self, staff_id: str) -> dict:
        found = self.store.staff_account(staff_id)
        if found is None:
            raise staff.StaffNotFound(staff_id)
        return found

    def add(self, body: dict, actor: Principal) -> dict:
        key = staff.email_key(body["email"])
        if self.store.active_staff_by_email(key, 1):
            raise staff.StaffExists(body["email"])
        account = staff.new_account(body, _new_id(), utcnow_iso(), actor.subject)
        record = audit.entry(audit.actor_of(actor), "staff.add", "staff", account["_id"],
                             after=staff.audited(account))
        self.store.insert_staff(account, [("staff-account-changed", staff.event(account))], record)
        return account

    def change(self, staff_id: str, changes: dict, actor: Principal) -> dict:
        before = self.get(staff_id)
        after = staff.changed_account(before, changes, utcnow_iso("microseconds"), actor.subject,
                                      self.store.active_coordinators_other_than(staff_id))
        if after is before:
            return before
        old, new = audit.changes(staff.audited(before), staff.audited(after))
        record = audit.entry(audit.actor_of(actor), "staff.change", "staff", staff_id, before=old, after=new)
        self.store.replace_staff(before, after, [("staff-account-changed", staff.event(after))], record)
        return after

    def remove(self, staff_id: str, actor: Principal) -> dict:
        before = self.get(staff_id)
        after = staff.removed_account(before, utcnow_iso("microseconds"), actor.subject,
                                      self.store.active_coordinators_other_than(staff_id))
        record = audit.entry(audit.actor_of(actor), "staff.remove", "staff", staff_id,
                             before=staff.audited(before), after={"status": after["status"]})
        self.store.replace_staff(before, after, [("staff-account-changed", staff.event(after))], record)
        return after

    def token_status(self, staff_id: str) -> SubjectStatus | None:
        found = self.store.staff_account(staff_id)
        if found is None:
            return None
        if found["status"] != staff.ACTIVE:
            return SubjectStatus(erased=True)
        return SubjectStatus(valid_after=epoch(found.get("tokens_valid_after")))


# What an audit record keeps of a profile's values: these fields as they are; any other field that
# changed (names, addresses, free text, the group's name) only as "(changed)", so that nothing a
# person wrote about themselves outlives their erasure in the log.
AUDITED_VALUES = ("region", "languages", "timezone", "role", "purpose", "activities", "consent")


def _audited_profile(profile: dict | None) -> dict | None:
    if profile is None:
        return None
    kept = {k: v for k, v in profile.items() if k not in ("interests", "group")}
    kept["interests"] = sorted(f"{i['topic']}/{i['direction']}" for i in profile.get("interests") or [])
    kept["group_type"] = (profile.get("group") or {}).get("type")
    kept["group"] = (profile.get("group") or {}).get("name")
    return kept


def _audit_of(actor: Principal | None, action: str, participant_id: str, before=None, after=None) -> dict | None:
    """The audit record of a staff member acting on a participant (None when the person acts themself)."""
    if actor is None or not actor.is_staff:
        return None
    old, new = None, None
    if before is not None or after is not None:
        old, new = audit.changes(_audited_profile(before), _audited_profile(after))
        for values in (old, new):
            for name in list(values):
                if name not in AUDITED_VALUES + ("interests", "group_type") and values[name] is not None:
                    values[name] = audit.CHANGED
    return audit.entry(audit.actor_of(actor), action, "participant", participant_id, before=old, after=new)


class RegistryService:
    """Participants: registration, changes, reissue, erasure; the directory; CSV imports."""

    def __init__(self, store: Store, settings: Settings, config: RegistryConfig | None = None):
        config = config or RegistryConfig()
        self.store = store
        self.settings = settings
        self.taxonomy = Taxonomy(store, config)
        self.sign_in = SignIn(store, settings, config, self.token_status)
        self.staff = StaffAccounts(store)

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

    def update(self, participant_id: str, changes: dict, actor: Principal | None = None) -> dict:
        """`actor`: who asked; a staff member's change is audited with it."""
        before = self.profile(participant_id)
        after = profiles.changed_profile(before, changes, utcnow_iso())
        if "interests" in changes:
            self.taxonomy.require_known(changes["interests"])
        if after is not before:
            self.store.replace_participant(before, after, profiles.change_events(before, after),
                                           _audit_of(actor, "participant.update", participant_id, before, after))
        return after

    def reissue_token(self, participant_id: str, actor: Principal | None = None) -> tuple[str, str]:
        """Sign me out everywhere: a new session, and every older token of this person (sessions,
        emailed links) stops working in every service (the cut-off travels in participant-updated)."""
        before = self.profile(participant_id)
        # The cut-off keeps microseconds and the new token is issued at that very instant: a token
        # issued earlier in the same second is refused, the new one is not.
        now = round(time.time(), 6)
        valid_after = iso(datetime.fromtimestamp(now, timezone.utc), "microseconds")
        after = profiles.reissued(before, valid_after, utcnow_iso())
        self.store.replace_participant(before, after, profiles.change_events(before, after),
                                       _audit_of(actor, "participant.sign-out", participant_id))
        return issue_participant_token(self.settings, participant_id, now=now), valid_after

    def withdraw(self, participant_id: str, actor: Principal | None = None) -> None:
        """Erase the person: the profile and pending sign-in links go, an anonymous tombstone stays
        (a staff erasure is audited by the participant's id only)."""
        tombstone, event = profiles.erased(self.profile(participant_id), utcnow_iso())
        self.store.erase_participant(participant_id, tombstone, [("participant-withdrawn", event)],
                                     _audit_of(actor, "participant.erase", participant_id))

    def token_status(self, kind: str, subject: str) -> SubjectStatus | None:
        """The registry is the source of truth: the profile's (or staff account's) cut-off, or its
        erasure (removal)."""
        if kind == STAFF:
            return self.staff.token_status(subject)
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

    def search(self, filters: dict, name_prefix: str | None, after: str | None, limit: int) -> tuple[list[dict], str | None]:
        """Staff's participant search: whole profiles, (items, position of the next page or None)."""
        found = self.store.search(directory.staff_conditions(**filters), name_prefix, after, limit + 1)
        shown = found[:limit]
        return shown, (shown[-1]["directory_key"] if len(found) > limit and shown else None)

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
