"""The notifier's use cases: load what an event or a request needs, decide with domain/, save the
state and its events (outbox) in one transaction.

Consumers (handlers.py) run inside the inbox transaction: the contact change or the rendered
message is stored together with the applied event id, so a redelivered event finds its id and
sends nothing. Sending happens afterwards (worker.py), from the stored messages; its outcomes
come back here (SendOutcomes).
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from datetime import datetime
from typing import Iterable

from pymongo.client_session import ClientSession
from pymongo.database import Database

from shared import audit
from shared.bus import PermanentError
from shared.clock import utcnow, utcnow_iso
from shared.config import Settings
from shared.cursors import CursorInvalid, decode_cursor, encode_cursor
from shared.languages import choose_language
from shared.mongo import in_transaction
from shared.outbox import Outbox
from shared.pseudonyms import translator_for
from shared.token_subjects import TokenSubjects

from services.notifier import SERVICE
from services.notifier.config import NotifierConfig
from services.notifier.domain import contacts as contact_rules
from services.notifier.domain import deliveries as delivery_rules
from services.notifier.domain import translations as translation_rules
from services.notifier.domain.compose import build_email, single_line, wire_bytes
from services.notifier.domain.digest import digest_due
from services.notifier.domain.events import failed_event, notification_event, template_translation_request
from services.notifier.domain.messages import message_parts, unsubscribe_confirmation
from services.notifier.domain.parking import expiry_reason, named_people
from services.notifier.domain.planning import Planned, plan, staff_key
from services.notifier.domain.preferences import ALWAYS_SENT, normalised, resource_mode, should_send, with_unsubscribed
from services.notifier.domain.rendering import RenderError, TemplateCatalogue
from services.notifier.domain.retry import Failure, outcome_of
from services.notifier.store import Store

log = logging.getLogger(__name__)

MESSAGE_EVENTS = ("match-proposed", "match-joined", "match-confirmed", "match-declined", "connection-proposed",
                  "connection-completed", "clinic-invited", "clinic-registration-changed", "clinic-reminder",
                  "session-completed", "sign-in-requested",
                  "presenter-scheduled", "presenter-reminder", "interpreter-scheduled", "interpreter-reminder",
                  "interpretation-missing", "interpretation-unavailable")


class Handoff:
    """Messages queued by a committed transaction go to this process's sender at once (already
    claimed by it), so it need not find them again in the database; it still scans for retries and
    leftovers. Staged per thread: `begin` at each transaction attempt, `committed` after commit."""

    def __init__(self):
        self.wake = threading.Event()
        self.queue: deque[dict] = deque()
        self.owner = uuid.uuid4().hex  # this process's claim on the messages it queues and sends
        self._staged = threading.local()

    @property
    def claim(self) -> str:
        return f"{self.owner}:new"

    def begin(self) -> None:
        self._staged.docs = []

    def stage(self, docs: Iterable[dict]) -> None:
        if not hasattr(self._staged, "docs"):
            self._staged.docs = []
        self._staged.docs.extend(docs)

    def committed(self) -> None:
        docs = getattr(self._staged, "docs", [])
        self._staged.docs = []
        if docs:
            self.queue.extend(docs)
            self.wake.set()


class Composer:
    """Turns planned messages into deliveries: parked, skipped, or rendered and queued."""

    def __init__(self, settings: Settings, config: NotifierConfig, store: Store, outbox: Outbox,
                 catalogue: TemplateCatalogue, handoff: Handoff):
        self.settings = settings
        self.config = config
        self.store = store
        self.outbox = outbox
        self.catalogue = catalogue
        self.handoff = handoff

    @staticmethod
    def people_named(work: Iterable[tuple[dict, list[Planned]]]) -> set[str]:
        """The participants whose contacts these messages need (their recipients, the people they name)."""
        people: set[str] = set()
        for envelope, planned_list in work:
            for planned in planned_list:
                people.update(named_people(envelope, planned))
                if planned.staff_id:
                    people.discard(staff_key(planned.staff_id))
        return people

    def lookups(self, session: ClientSession, work: Iterable[tuple[dict, list[Planned]]],
                known: dict[str, dict] | None = None) -> dict:
        """Everything the messages of these events need, in one query per collection; `known`:
        contacts this transaction read already (by participant id), not read again."""
        work = list(work)
        people = self.people_named(work)
        staff: set[str] = set()
        clinics: set[str] = set()
        for envelope, planned_list in work:
            for planned in planned_list:
                if planned.staff_id:
                    staff.add(planned.staff_id)
                if planned.template == "feedback_request":
                    clinics.add(envelope["data"]["clinic_id"])
        known = known or {}
        contacts = {pid: known[pid] for pid in people if pid in known}
        contacts.update(self.store.contacts_of(people - known.keys(), session))
        contacts.update({staff_key(k): v for k, v in self.store.staff_contacts_of(staff, session).items()})
        return {"contacts": contacts, "preferences": self.store.preferences_of(people, session),
                "resources": self.store.clinic_resources(clinics, session)}

    def delivery(self, session: ClientSession, envelope: dict, planned: Planned, lookups: dict,
                 notification_id: str | None = None, extra_resources: list[dict] | None = None) -> dict | None:
        """The delivery document for one recipient: rendered and queued, parked, skipped, or None."""
        now = utcnow()
        base = delivery_rules.new_delivery(notification_id or uuid.uuid4().hex, envelope, planned, now)
        decision = delivery_rules.decide(envelope, planned, lookups["contacts"], lookups["preferences"], now)
        if decision.action == "park":
            return delivery_rules.parked(base, envelope, planned, decision.awaiting, now, self.config.park_seconds)
        if decision.action == "drop":
            return None
        if decision.action == "skip":
            return delivery_rules.skipped(base, decision)
        recipient = decision.recipient
        resources = extra_resources
        if resources is None and planned.template == "feedback_request":
            resources = lookups["resources"].get(envelope["data"]["clinic_id"], [])
        choice = choose_language(recipient.languages, self.catalogue.languages(planned.template))
        try:
            parts = message_parts(planned.template, envelope, recipient, self.settings,
                                  contacts=lookups["contacts"], resources=resources, category=planned.category)
            rendered = self.catalogue.render(planned.template, choice.language, parts.context)
            message = build_email(rendered, mail_from=self.settings.mail_from, to_name=recipient.name,
                                  to_address=recipient.address, notification_id=base["_id"],
                                  unsubscribe_url=parts.unsubscribe_url, attachments=parts.attachments,
                                  extra_headers={"X-LetsConnect-Template": planned.template,
                                                 "X-LetsConnect-Notification": base["_id"]})
        except (RenderError, KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"cannot render {planned.template} for {envelope['type']} {envelope['id']}: "
                                 f"{exc}") from exc
        if choice.missing:
            self._request_template(session, planned.template, choice.missing)
        # queued and claimed at once by this process's sender (handed over after commit); should
        # the process die, the claim expires and any copy's sender finds the message in its scan
        return delivery_rules.queued(
            base, now=now, claim=self.handoff.claim, claim_seconds=self.config.claim_seconds,
            language=choice.language, first_language=choice.first, address=recipient.address,
            message_id=message["Message-ID"], subject=single_line(rendered.subject), message=wire_bytes(message))

    def insert(self, session: ClientSession, docs: list[dict | None]) -> None:
        self.store.write(self.insert_writes(docs), session)

    def insert_writes(self, docs: list[dict | None]) -> list:
        """The deliveries' inserts (as Store.write operations); the queued ones go to this process's
        sender once the transaction commits."""
        docs = [doc for doc in docs if doc is not None]
        self.handoff.stage(doc for doc in docs if doc["status"] == "queued")
        return self.store.delivery_writes(docs)

    def fail(self, session: ClientSession, doc: dict, error: str, permanent: bool, status: str = "failed") -> None:
        """A delivery that will never be sent, and the notification-failed event that says so."""
        now = utcnow()
        entry = delivery_rules.failure_entry(doc.get("attempts", 0), now, status, error)
        self.store.close_delivery(doc["_id"], status, error[:500], entry, now, session)
        self.outbox.add(session, "notification-failed", failed_event(doc, error, permanent))

    def _request_template(self, session: ClientSession, template: str, language: str) -> None:
        """Ask translators for a missing template, once per template and language."""
        if self.store.first_template_request(template, language, utcnow(), session):
            self.outbox.add(session, "translation-requested", template_translation_request(template, language))


class ContactUseCases:
    """The contacts read model (participant events) and the messages that waited for a contact."""

    def __init__(self, store: Store, subjects: TokenSubjects, composer: Composer):
        self.store = store
        self.subjects = subjects
        self.composer = composer

    def on_poll(self, session: ClientSession, arrivals: list[dict],
                messages: list[tuple[dict, list[Planned]]] = ()) -> list:
        """A poll's participant-registered / -updated events and the planned messages of its
        other events, together: the newer copies become the contacts, each registration gets its
        welcome, the messages are written knowing this poll's contacts (one read of the contacts
        and one of the preferences for all of them), and the messages that waited for one of
        these contacts go out. Returns the writes (for Store.write, or the inbox's bulk write)."""
        arriving = list(dict.fromkeys(envelope["data"]["participant_id"] for envelope in arrivals))
        held = self.store.contacts_of({*arriving, *self.composer.people_named(messages)}, session)
        replaced: dict[str, dict] = {}
        welcomes: list[tuple[dict, list[Planned]]] = []
        for envelope in arrivals:
            data = envelope["data"]
            pid = data["participant_id"]
            if contact_rules.is_gone(held.get(pid)):
                continue  # a late event of someone who withdrew: nothing to store, nobody to tell
            if contact_rules.replaces(held.get(pid), data["revision"]):
                held[pid] = replaced[pid] = contact_rules.contact_from_event(data, utcnow())
            if envelope["type"] == "participant-registered":
                welcomes.append((envelope, [Planned("welcome", pid)]))
        writes = [write for envelope in arrivals for write in self.subjects.writes(envelope)]
        writes += self.store.contact_writes(list(replaced.values()))
        work = [*welcomes, *messages]
        if work:
            lookups = self.composer.lookups(session, work, known=held)
            writes += self.composer.insert_writes([self.composer.delivery(session, envelope, planned, lookups)
                                                   for envelope, planned_list in work for planned in planned_list])
        writes += self.released_writes(
            session, [held[pid]["_id"] for pid in arriving if not contact_rules.is_gone(held.get(pid))], known=held)
        return writes

    def on_withdrawn(self, session: ClientSession, envelope: dict) -> None:
        data = envelope["data"]
        self.subjects.apply(session, envelope)
        # a tombstone without anything personal, so a late registered/updated event is ignored
        self.store.bury_contact(data["participant_id"], contact_rules.tombstone(data), session)
        self.store.forget_person(data["participant_id"], utcnow(), session)

    def on_staff_account(self, session: ClientSession, envelope: dict) -> None:
        """A staff account's address (for its sign-in mail), or none once it is removed."""
        data = envelope["data"]
        self.subjects.apply(session, envelope)
        if contact_rules.replaces(self.store.staff_contact(data["staff_id"], session), data["revision"]):
            self.store.replace_staff_contact(contact_rules.staff_contact_from_event(data, utcnow()), session)
        self.release_parked(session, [staff_key(data["staff_id"])])

    def release_parked(self, session: ClientSession, keys: list[str], known: dict[str, dict] | None = None) -> None:
        """Messages that waited for one of these contacts (as recipient, or as someone named in them);
        `known`: contacts already read (Composer.lookups)."""
        self.store.write(self.released_writes(session, keys, known), session)

    def released_writes(self, session: ClientSession, keys: list[str], known: dict[str, dict] | None = None) -> list:
        """release_parked's writes (one operation per message that waited), for Store.write."""
        if not keys:
            return []
        parked = self.store.parked_awaiting(keys, session)
        if not parked:
            return []
        work = [(doc["envelope"], [delivery_rules.planned_of(doc)]) for doc in parked]
        lookups = self.composer.lookups(session, work, known=known)
        released: dict[str, dict] = {}
        waiting: dict[str, list[str]] = {}
        queued: list[dict] = []
        for doc in parked:
            planned = delivery_rules.planned_of(doc)
            try:
                ready = self.composer.delivery(session, doc["envelope"], planned, lookups, notification_id=doc["_id"])
            except PermanentError as exc:  # the event was fine; its message is not: record, do not park
                self.composer.fail(session, doc, f"render: {exc}", permanent=True)
                continue
            if ready is None:
                continue
            if ready["status"] == "parked":  # still waiting for someone else
                waiting[doc["_id"]] = ready["awaiting"]
                continue
            released[doc["_id"]] = delivery_rules.released(ready)
            if ready["status"] == "queued":
                queued.append({**ready, "_id": doc["_id"], "attempts": doc.get("attempts", 0)})
        self.composer.handoff.stage(queued)
        return self.store.parked_writes(released, waiting)


class MessageUseCases:
    """Events that tell people something: one delivery per (event, recipient, template)."""

    def __init__(self, settings: Settings, store: Store, composer: Composer):
        self.settings = settings
        self.store = store
        self.composer = composer

    def _plan(self, envelope: dict) -> list[Planned]:
        return plan(envelope["type"], envelope["data"], self.settings.translators,
                    interpreter_address=lambda language, who: translator_for(self.settings, language, who),
                    program_team=self.composer.config.program_team)

    def planned(self, envelopes: list[dict]) -> list[tuple[dict, list[Planned]]]:
        """Each event with the messages it asks for."""
        return [(envelope, self._plan(envelope)) for envelope in envelopes]

    def on_message_events(self, session: ClientSession, envelopes: list[dict]) -> None:
        work = self.planned(envelopes)
        lookups = self.composer.lookups(session, work)
        self.composer.insert(session, [self.composer.delivery(session, envelope, planned, lookups)
                                       for envelope, planned_list in work for planned in planned_list])

    def on_resource_published(self, session: ClientSession, envelope: dict) -> None:
        data = envelope["data"]
        self.store.save_resource({"_id": data["resource_id"], **{k: data.get(k) for k in (
            "title", "description", "kind", "url", "language", "topics", "clinic_id", "published_at")}}, session)
        readers = self.store.readers_of(data["topics"], session)
        if not readers:
            return
        preferences = self.store.preferences_of([c["_id"] for c in readers], session)
        immediate, digest = [], []
        for contact in readers:
            chosen = preferences.get(contact["_id"])
            if should_send("resources", chosen):
                (immediate if resource_mode(chosen) == "immediate" else digest).append(contact["_id"])
        if digest:
            self.store.add_digest_items(data["resource_id"], digest, utcnow(), session)
        if immediate:
            planned = [Planned("resource_new", pid) for pid in immediate]
            lookups = self.composer.lookups(session, [(envelope, planned)])
            self.composer.insert(session, [self.composer.delivery(session, envelope, p, lookups) for p in planned])

    def on_translation_requested(self, session: ClientSession, envelopes: list[dict]) -> None:
        """Listed at GET /translation-requests, and mailed to the translators of that language."""
        for envelope in envelopes:
            data = envelope["data"]
            translators = len(self._plan(envelope))
            self.store.add_translation_request(
                data["request_id"], translation_rules.request_record(data, envelope["id"], translators, utcnow()),
                session)
        self.on_message_events(session, envelopes)


class ScheduledJobs:
    """The worker's periodic jobs: parked messages that waited too long, resource digests."""

    def __init__(self, config: NotifierConfig, db: Database, store: Store, composer: Composer):
        self.config = config
        self.db = db
        self.store = store
        self.composer = composer

    def expire_parked(self, limit: int = 200) -> int:
        """Events that waited too long for an unknown participant: recorded as expired."""
        due = self.store.due_parked(utcnow(), limit)
        if not due:
            return 0

        def work(session):
            for doc in due:
                if self.store.is_parked(doc["_id"], session):
                    reason = expiry_reason(doc.get("awaiting") or [doc["participant_id"]], self.config.park_seconds)
                    self.composer.fail(session, doc, reason, permanent=True, status="expired")

        in_transaction(self.db, work)
        return len(due)

    def send_digests(self, now: datetime | None = None) -> int:
        """Resource digests that are due (weekly by default): one message per person."""
        now = now or utcnow()
        sent = 0
        for pid in self.store.digest_readers():
            def work(session, pid=pid):
                self.composer.handoff.begin()
                return self._digest_for(session, pid, now)

            if in_transaction(self.db, work):
                sent += 1
                self.composer.handoff.committed()
        return sent

    def _digest_for(self, session: ClientSession, pid: str, now: datetime) -> bool:
        items = self.store.digest_items_of(pid, session)
        if not items:
            return False
        last = self.store.last_digest(pid, session)
        if not digest_due(now, last.get("sent_at"), items[0]["created_at"], self.config.digest_period_seconds):
            return False
        resources = self.store.resources_by_id([i["resource_id"] for i in items], session)
        number = int(last.get("count", 0)) + 1
        envelope = {"id": f"digest-{pid}-{number}", "type": "resource-digest", "time": utcnow_iso(), "data": {}}
        planned = Planned("resource_digest", pid)
        lookups = self.composer.lookups(session, [(envelope, [planned])])
        try:
            doc = self.composer.delivery(session, envelope, planned, lookups, extra_resources=resources)
        except PermanentError as exc:
            log.error("digest for %s cannot be rendered: %s", pid, exc)
            return False
        if doc is None or doc["status"] == "parked":  # the contact is gone; its items went with the withdrawal
            return False
        self.composer.insert(session, [doc])
        self.store.digest_sent(pid, [i["_id"] for i in items], now, number, session)
        return True


class SendOutcomes:
    """What the sender's attempts came to: the delivery log and notification-sent/-failed, in one
    transaction per batch."""

    def __init__(self, config: NotifierConfig, db: Database, store: Store, outbox: Outbox):
        self.config = config
        self.db = db
        self.store = store
        self.outbox = outbox

    def record(self, attempts: list[tuple[dict, Failure | None]]) -> None:
        now = utcnow()
        outcomes, events = [], []
        for doc, failure in attempts:
            outcome = outcome_of(failure, int(doc.get("attempts", 0)) + 1, self.config.max_attempts,
                                 self.config.retry_base_seconds, self.config.retry_max_seconds)
            outcomes.append((doc, outcome))
            current = {**doc, "attempts": outcome.attempts}
            if outcome.status == "sent":
                events.append(("notification-sent", notification_event(current)))
            elif outcome.status == "failed":
                events.append(("notification-failed", failed_event(current, outcome.reason, outcome.permanent)))

        def work(session):
            self.store.record_outcomes(outcomes, now, session)
            self.outbox.add_many(session, events)

        in_transaction(self.db, work)
        retried = sum(1 for _, outcome in outcomes if outcome.status == "retry")
        if retried:
            log.info("notifier: %d message(s) will be retried", retried)


class PersonErased(Exception):
    """The participant withdrew: nothing is read or written for them any more (the API says 410)."""


class PreferenceUseCases:
    """What a person chose to receive (the API's preferences and unsubscribe routes). Nothing is
    stored for a participant who withdrew: the check and the write share one transaction, and the
    withdrawal writes the same preferences key, so one of two concurrent transactions retries."""

    def __init__(self, settings: Settings, db: Database, store: Store):
        self.settings = settings
        self.db = db
        self.store = store

    @staticmethod
    def view(pid: str, stored: dict | None) -> dict:
        return {"participant": pid, **normalised(stored), "always_sent": list(ALWAYS_SENT)}

    def _unless_erased(self, pid: str, session: ClientSession | None = None) -> None:
        if contact_rules.is_gone(self.store.contact(pid, session)):
            raise PersonErased(pid)

    def preferences(self, pid: str) -> dict:
        self._unless_erased(pid)
        return self.view(pid, self.store.preference(pid))

    def save(self, pid: str, preferences: dict) -> dict:
        return self._change(pid, lambda current: preferences)

    def unsubscribe(self, pid: str, category: str) -> dict:
        return self._change(pid, lambda current: with_unsubscribed(current, category))

    def confirmation_url(self, token: str, category: str) -> str:
        """Where an unsubscribe link's GET sends the person: the portal asks before anything changes."""
        return unsubscribe_confirmation(self.settings.portal_url, token, category)

    def _change(self, pid: str, change) -> dict:
        def work(session: ClientSession) -> dict:
            self._unless_erased(pid, session)
            stored = {**normalised(change(self.store.preference(pid, session))), "updated_at": utcnow()}
            self.store.save_preferences(pid, stored, session)
            return stored

        return self.view(pid, in_transaction(self.db, work))


class Records:
    """What staff read: the delivery log and the translation requests; closing a request."""

    def __init__(self, store: Store):
        self.store = store

    def deliveries(self, *, participant=None, event_id=None, status=None, cursor=None,
                   limit: int = 50) -> tuple[list[dict], str | None]:
        """A page of the delivery log; raises shared.cursors.CursorInvalid for a bad cursor."""
        before = decode_cursor(cursor) if cursor else None
        docs, following = self.store.delivery_page(participant=participant, event_id=event_id, status=status,
                                                   before=before, limit=limit)
        return docs, encode_cursor(following) if following is not None else None

    def translation_requests(self, *, status=None, language=None, cursor=None,
                             limit: int = 100) -> tuple[list[dict], str | None]:
        after = decode_cursor(cursor) if cursor else None
        if after is not None and not isinstance(after, str):
            raise CursorInvalid("not a cursor from a previous page")
        docs, following = self.store.translation_page(status=status, language=language, after=after, limit=limit)
        return docs, encode_cursor(following) if following is not None else None

    def close_translation_request(self, request_id: str, actor: dict | None = None) -> dict | None:
        """Done (closing it again changes nothing); None when there is no such request. `actor`:
        the staff member, audited in the same transaction."""
        return self._change_request(request_id, "translation-request.done", actor,
                                    lambda request: translation_rules.close(request, utcnow()))

    def assign_translation_request(self, request_id: str, staff_id: str, actor: dict | None = None) -> dict | None:
        """`staff_id` takes the request (assigned_to); None when there is no such request; raises
        translation_rules.Refused when it is done already."""
        return self._change_request(request_id, "translation-request.assign", actor,
                                    lambda request: translation_rules.assign(request, staff_id, utcnow()))

    def _change_request(self, request_id: str, action: str, actor: dict | None, decide) -> dict | None:
        def work(session):
            request = self.store.translation_request(request_id, session)
            transition = decide(request)
            if transition.refused:
                raise translation_rules.Refused(transition.refused)
            if not transition.found:
                return None
            if transition.changes:
                self.store.update_open_request(request_id, transition.changes, session)
                if actor is not None:
                    # the record's own `at` says when: the *_at fields would only repeat it
                    before, after = audit.changes(request, {**request, **transition.changes},
                                                  fields=[k for k in sorted(transition.changes) if not k.endswith("_at")])
                    self.store.audit.insert(audit.entry(actor, action, "translation_request", request_id,
                                                        before, after), session)
            return {**request, **(transition.changes or {})}

        return in_transaction(self.store.db, work)


class NotifierService:
    """The notifier's use cases, as the handlers, the worker's jobs, the sender and the API call them."""

    def __init__(self, settings: Settings, config: NotifierConfig, db: Database,
                 catalogue: TemplateCatalogue | None = None):
        self.settings = settings
        self.config = config
        self.db = db
        self.store = Store(db)
        self.outbox = Outbox(db, SERVICE)
        self.subjects = TokenSubjects(db)
        self.handoff = Handoff()
        self.catalogue = catalogue or TemplateCatalogue(config.template_dirs)
        self.composer = Composer(settings, config, self.store, self.outbox, self.catalogue, self.handoff)
        self.contacts = ContactUseCases(self.store, self.subjects, self.composer)
        self.messages = MessageUseCases(settings, self.store, self.composer)
        self.jobs = ScheduledJobs(config, db, self.store, self.composer)
        self.outcomes = SendOutcomes(config, db, self.store, self.outbox)
        self.preferences = PreferenceUseCases(settings, db, self.store)
        self.records = Records(self.store)

    def ensure_indexes(self) -> None:
        self.store.ensure_indexes()
