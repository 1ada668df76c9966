"""The notifier's consumers: read models, and one delivery per (event, recipient, template).

Every effect runs inside the inbox transaction: the contact change or the rendered message is
stored together with the applied event id, so a redelivered event finds its id and sends
nothing. Sending happens afterwards (services/notifier/sending.py), from the stored messages.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from datetime import datetime, timedelta, timezone
from typing import Iterable

from bson import Binary, ObjectId
from pymongo.client_session import ClientSession
from pymongo.database import Database

from shared.bus import PermanentError
from shared.config import Settings
from shared.events import utcnow_iso
from shared.inbox import IdempotentHandler, Inbox
from shared.mongo import in_transaction
from shared.outbox import Outbox
from shared.token_subjects import TokenSubjects

from services.notifier import SERVICE
from services.notifier.compose import build_email, single_line, wire_bytes
from services.notifier.config import NotifierConfig
from services.notifier.digest import digest_due
from shared.languages import choose_language
from services.notifier.messages import Recipient, message_parts
from services.notifier.planning import Planned, awaited_contacts, named_people, plan
from services.notifier.preferences import resource_mode, should_send
from services.notifier.rendering import RenderError, TemplateCatalogue
from services.notifier.store import OPEN_STATUSES, Store

log = logging.getLogger(__name__)

MESSAGE_EVENTS = ("match-proposed", "match-confirmed", "match-declined", "connection-completed",
                  "clinic-invited", "clinic-registration-changed", "clinic-reminder", "session-completed")
SCRUB = {"message": "", "to": "", "envelope": "", "claim": "", "claimed_until": ""}


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def delivery_key(event_id: str, recipient: str, template: str) -> str:
    return f"{event_id}|{recipient}|{template}"


class Notifier:
    def __init__(self, settings: Settings, config: NotifierConfig, db: Database,
                 catalogue: TemplateCatalogue | None = None):
        self.settings = settings
        self.config = config
        self.db = db
        self.store = Store(db)
        self.inbox = Inbox(db, SERVICE)
        self.subjects = TokenSubjects(db)
        self.outbox = Outbox(db, SERVICE)
        self.catalogue = catalogue or TemplateCatalogue(config.template_dirs)
        self.wake = threading.Event()  # set when messages are queued: the sender starts at once
        # ids of messages queued by a committed transaction, handed to this process's sender so it
        # need not find them again in the database (which it still scans for retries and leftovers)
        self.handoff: deque[dict] = deque()
        self._staged = threading.local()
        self.owner = uuid.uuid4().hex  # this process's claim on the messages it queues and sends

    # ------------------------------------------------------------------ handlers

    def handlers(self) -> dict:
        def handler(effect):
            return IdempotentHandler(self.inbox, batch=effect, begin=self._begin, committed=self._hand_off)

        handlers = {
            "participant-registered": handler(self._each(self.on_participant)),
            "participant-updated": handler(self._each(self.on_participant)),
            "participant-withdrawn": handler(self._each(self.on_withdrawn)),
            "resource-published": handler(self._each(self.on_resource_published)),
            "translation-requested": handler(self.on_translation_requested),
        }
        for event_type in MESSAGE_EVENTS:
            handlers[event_type] = handler(self.on_message_events)
        return handlers

    def _begin(self) -> None:
        self._staged.docs = []

    def _stage(self, docs: Iterable[dict]) -> None:
        if not hasattr(self._staged, "docs"):
            self._staged.docs = []
        self._staged.docs.extend(docs)

    def _hand_off(self) -> None:
        """After commit: the queued messages go to this process's sender, already claimed by it."""
        docs = getattr(self._staged, "docs", [])
        self._staged.docs = []
        if docs:
            self.handoff.extend(docs)
            self.wake.set()

    @staticmethod
    def _each(effect):
        def run(session, envelopes):
            for envelope in envelopes:
                effect(session, envelope)
        return run

    # ------------------------------------------------------------------ contacts

    def on_participant(self, session: ClientSession, envelope: dict) -> None:
        data = envelope["data"]
        pid = data["participant_id"]
        self.subjects.apply(session, envelope)
        held = self.store.contacts.find_one({"_id": pid}, session=session)
        if held and held.get("withdrawn"):
            return  # a late event of someone who withdrew: nothing to store, nobody to tell
        if held is None or held.get("revision", 0) < data["revision"]:
            contact = {
                "_id": pid, "revision": data["revision"], "email": data["email"], "name": data["name"],
                "languages": list(data["languages"]), "timezone": data["timezone"],
                "consent": dict(data["consent"]),
                "topics": sorted({interest["topic"] for interest in data.get("interests", [])}),
                "tokens_valid_after": data.get("tokens_valid_after"), "updated_at": now_utc(),
            }
            self.store.contacts.replace_one({"_id": pid}, contact, upsert=True, session=session)
            held = contact
        if envelope["type"] == "participant-registered":
            lookups = self._lookups(session, [(envelope, [Planned("welcome", pid)])])
            self._insert(session, [self._delivery(session, envelope, Planned("welcome", pid), lookups)])
        self._release_parked(session, held)

    def on_withdrawn(self, session: ClientSession, envelope: dict) -> None:
        data = envelope["data"]
        pid = data["participant_id"]
        self.subjects.apply(session, envelope)
        # a tombstone without anything personal, so a late registered/updated event is ignored
        self.store.contacts.replace_one({"_id": pid}, {"_id": pid, "withdrawn": True, "revision": data["revision"],
                                                       "withdrawn_at": data["withdrawn_at"]},
                                        upsert=True, session=session)
        self.store.deliveries.update_many(
            {"participant_id": pid, "status": {"$in": list(OPEN_STATUSES)}},
            {"$set": {"status": "cancelled", "error": "participant withdrawn", "updated_at": now_utc()},
             "$unset": SCRUB}, session=session)
        self.store.deliveries.update_many({"participant_id": pid}, {"$unset": SCRUB}, session=session)
        self.store.preferences.delete_one({"_id": pid}, session=session)
        self.store.digest_items.delete_many({"participant_id": pid}, session=session)
        self.store.digests.delete_one({"_id": pid}, session=session)

    def _release_parked(self, session: ClientSession, contact: dict) -> None:
        """Messages that waited for this person's contact (as recipient, or as someone named in them)."""
        parked = list(self.store.deliveries.find({"awaiting": contact["_id"], "status": "parked"},
                                                 session=session))
        if not parked:
            return
        work = [(doc["envelope"], [Planned(doc["template"], doc["participant_id"])]) for doc in parked]
        lookups = self._lookups(session, work)
        for doc in parked:
            planned = Planned(doc["template"], doc["participant_id"])
            try:
                ready = self._delivery(session, doc["envelope"], planned, lookups, notification_id=doc["_id"])
            except PermanentError as exc:  # the event was fine; its message is not: record, do not park
                self._fail(session, doc, f"render: {exc}", permanent=True, status="failed")
                continue
            if ready is None:
                continue
            if ready["status"] == "parked":  # still waiting for someone else
                self.store.deliveries.update_one({"_id": doc["_id"], "status": "parked"},
                                                 {"$set": {"awaiting": ready["awaiting"]}}, session=session)
                continue
            for kept in ("_id", "seq", "created_at", "log", "attempts"):
                ready.pop(kept)
            self.store.deliveries.update_one({"_id": doc["_id"], "status": "parked"},
                                             {"$set": ready, "$unset": {"envelope": "", "parked_until": "",
                                                                        "awaiting": ""}},
                                             session=session)
            if ready["status"] == "queued":
                self._stage([{**ready, "_id": doc["_id"], "attempts": doc.get("attempts", 0)}])

    # ------------------------------------------------------------------ messages

    def on_message_events(self, session: ClientSession, envelopes: list[dict]) -> None:
        work = [(envelope, plan(envelope["type"], envelope["data"], self.settings.translators))
                for envelope in envelopes]
        lookups = self._lookups(session, work)
        docs = [self._delivery(session, envelope, planned, lookups)
                for envelope, planned_list in work for planned in planned_list]
        self._insert(session, [doc for doc in docs if doc is not None])

    def on_resource_published(self, session: ClientSession, envelope: dict) -> None:
        data = envelope["data"]
        resource = {"_id": data["resource_id"], **{k: data.get(k) for k in (
            "title", "description", "kind", "url", "language", "topics", "clinic_id", "published_at")}}
        self.store.resources.replace_one({"_id": data["resource_id"]}, resource, upsert=True, session=session)
        readers = list(self.store.contacts.find({"topics": {"$in": list(data["topics"])},
                                                 "withdrawn": {"$ne": True}}, session=session))
        if not readers:
            return
        preferences = self._preferences(session, [c["_id"] for c in readers])
        immediate, digest = [], []
        for contact in readers:
            chosen = preferences.get(contact["_id"])
            if not should_send("resources", chosen):
                continue
            (immediate if resource_mode(chosen) == "immediate" else digest).append(contact["_id"])
        if digest:
            created = now_utc()
            for pid in digest:
                self.store.digest_items.update_one(
                    {"_id": f"{data['resource_id']}:{pid}"},
                    {"$setOnInsert": {"participant_id": pid, "resource_id": data["resource_id"], "created_at": created}},
                    upsert=True, session=session)
        if immediate:
            planned = [Planned("resource_new", pid) for pid in immediate]
            lookups = self._lookups(session, [(envelope, planned)])
            self._insert(session, [self._delivery(session, envelope, p, lookups) for p in planned])

    def on_translation_requested(self, session: ClientSession, envelopes: list[dict]) -> None:
        """Listed at GET /translation-requests, and mailed to the translators of that language."""
        for envelope in envelopes:
            data = envelope["data"]
            self.store.translation_requests.update_one(
                {"_id": data["request_id"]},
                {"$setOnInsert": {**{k: data.get(k) for k in ("subject_kind", "subject_id", "language",
                                                              "source_language", "title", "url", "requested_by")},
                                  "status": "open", "created_at": now_utc(), "event_id": envelope["id"],
                                  "translators": len(plan(envelope["type"], data, self.settings.translators))}},
                upsert=True, session=session)
        self.on_message_events(session, envelopes)

    # ------------------------------------------------------------------ building deliveries

    def _lookups(self, session: ClientSession, work: Iterable[tuple[dict, list[Planned]]]) -> dict:
        """Everything the messages of these events need, in one query per collection."""
        people: set[str] = set()
        clinics: set[str] = set()
        for envelope, planned_list in work:
            for planned in planned_list:
                people.update(named_people(envelope, planned))
                if planned.template == "feedback_request":
                    clinics.add(envelope["data"]["clinic_id"])
        contacts = {c["_id"]: c for c in self.store.contacts.find({"_id": {"$in": list(people)}}, session=session)} \
            if people else {}
        resources: dict[str, list[dict]] = {}
        if clinics:
            for resource in self.store.resources.find({"clinic_id": {"$in": list(clinics)}}, session=session) \
                    .sort("published_at", 1):
                resources.setdefault(resource["clinic_id"], []).append(resource)
        return {"contacts": contacts, "preferences": self._preferences(session, list(people)), "resources": resources}

    def _preferences(self, session: ClientSession, pids: list[str]) -> dict[str, dict]:
        if not pids:
            return {}
        return {p["_id"]: p for p in self.store.preferences.find({"_id": {"$in": pids}}, session=session)}

    def _delivery(self, session: ClientSession, envelope: dict, planned: Planned, lookups: dict,
                  notification_id: str | None = None, extra_resources: list[dict] | None = None) -> dict | None:
        """The delivery document for one recipient: a rendered message, or parked, or skipped."""
        now = now_utc()
        doc = {
            "_id": notification_id or uuid.uuid4().hex, "seq": ObjectId(),
            "key": delivery_key(envelope["id"], planned.recipient, planned.template),
            "event_id": envelope["id"], "event_type": envelope["type"], "event_time": envelope.get("time"),
            "template": planned.template,
            "category": planned.category, "participant_id": planned.participant_id, "channel": "email",
            "attempts": 0, "log": [], "created_at": now, "updated_at": now,
        }
        awaiting = awaited_contacts(envelope, planned, lookups["contacts"])
        if awaiting:
            return {**doc, "status": "parked", "language": None, "first_language": None, "awaiting": awaiting,
                    "envelope": {k: envelope[k] for k in ("id", "type", "time", "data")},
                    "parked_until": now + timedelta(seconds=self.config.park_seconds)}
        contact = None
        if planned.participant_id:
            contact = lookups["contacts"][planned.participant_id]
            if contact.get("withdrawn"):
                return None
            if not should_send(planned.category, lookups["preferences"].get(planned.participant_id)):
                return {**doc, "status": "skipped", "language": None, "first_language": contact["languages"][0],
                        "error": f"{planned.category} turned off by the participant"}
            recipient = Recipient.from_contact(contact)
        else:
            data = envelope["data"]
            recipient = Recipient(address=planned.address, languages=(data.get("language", "en"),
                                                                      data.get("source_language", "en")))
        resources = extra_resources
        if resources is None and planned.template == "feedback_request":
            resources = lookups["resources"].get(envelope["data"]["clinic_id"], [])
        choice = choose_language(recipient.languages, self.catalogue.languages(planned.template))
        try:
            parts = message_parts(planned.template, envelope, recipient, self.settings,
                                  contacts=lookups["contacts"], resources=resources, category=planned.category)
            rendered = self.catalogue.render(planned.template, choice.language, parts.context)
            message = build_email(rendered, mail_from=self.settings.mail_from, to_name=recipient.name,
                                  to_address=recipient.address, notification_id=doc["_id"],
                                  unsubscribe_url=parts.unsubscribe_url, attachments=parts.attachments,
                                  extra_headers={"X-LetsConnect-Template": planned.template,
                                                 "X-LetsConnect-Notification": doc["_id"]})
        except (RenderError, KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"cannot render {planned.template} for {envelope['type']} {envelope['id']}: "
                                 f"{exc}") from exc
        if choice.missing:
            self._request_template(session, planned.template, choice.missing)
        # queued and claimed at once by this process's sender (handed over after commit); should
        # the process die, the claim expires and any copy's sender finds the message in its scan
        return {**doc, "status": "queued", "due_at": now, "claim": f"{self.owner}:new",
                "claimed_until": now + timedelta(seconds=self.config.claim_seconds), "language": choice.language,
                "first_language": choice.first, "to": recipient.address, "message_id": message["Message-ID"],
                "subject": single_line(rendered.subject), "message": Binary(wire_bytes(message))}

    def _insert(self, session: ClientSession, docs: list[dict]) -> None:
        docs = [doc for doc in docs if doc is not None]
        if docs:
            self.store.deliveries.insert_many(docs, ordered=True, session=session)
            self._stage(doc for doc in docs if doc["status"] == "queued")

    def _request_template(self, session: ClientSession, template: str, language: str) -> None:
        """Ask translators for a missing template, once per template and language."""
        result = self.store.template_requests.update_one(
            {"_id": f"{template}:{language}"},
            {"$setOnInsert": {"template": template, "language": language, "requested_at": now_utc()}},
            upsert=True, session=session)
        if result.upserted_id is None:
            return
        self.outbox.add(session, "translation-requested", {
            "request_id": f"template-{template}-{language}"[:64], "subject_kind": "template",
            "subject_id": template, "language": language, "source_language": "en",
            "title": f"Email template '{template}' (Let's Connect notifications)", "url": None,
            "requested_by": SERVICE})

    def _fail(self, session: ClientSession, doc: dict, error: str, permanent: bool, status: str = "failed") -> None:
        now = now_utc()
        self.store.deliveries.update_one(
            {"_id": doc["_id"]},
            {"$set": {"status": status, "error": error[:500], "updated_at": now},
             "$push": {"log": {"attempt": doc.get("attempts", 0), "at": now, "outcome": status, "code": None,
                               "error": error[:500]}},
             "$unset": SCRUB}, session=session)
        self.outbox.add(session, "notification-failed", failed_event(doc, error, permanent))

    # ------------------------------------------------------------------ periodic jobs

    def expire_parked(self, limit: int = 200) -> int:
        """Events that waited too long for an unknown participant: recorded as expired."""
        due = list(self.store.deliveries.find({"status": "parked", "parked_until": {"$lt": now_utc()}},
                                              {"envelope": 0}).limit(limit))
        if not due:
            return 0

        def work(session):
            for doc in due:
                held = self.store.deliveries.find_one({"_id": doc["_id"], "status": "parked"}, {"_id": 1},
                                                      session=session)
                if held:
                    missing = ", ".join(doc.get("awaiting") or [doc["participant_id"]])
                    self._fail(session, doc, f"no contact for participant {missing} arrived within "
                                             f"{self.config.park_seconds:g} s", permanent=True, status="expired")

        in_transaction(self.db, work)
        return len(due)

    def send_digests(self, now: datetime | None = None) -> int:
        """Resource digests that are due (weekly by default): one message per person."""
        now = now or now_utc()
        sent = 0
        for pid in self.store.digest_items.distinct("participant_id"):
            def work(session, pid=pid):
                self._begin()
                return self._digest_for(session, pid, now)

            if in_transaction(self.db, work):
                sent += 1
                self._hand_off()
        return sent

    def _digest_for(self, session: ClientSession, pid: str, now: datetime) -> bool:
        items = list(self.store.digest_items.find({"participant_id": pid}, session=session).sort("created_at", 1))
        if not items:
            return False
        last = self.store.digests.find_one({"_id": pid}, session=session) or {}
        if not digest_due(now, last.get("sent_at"), items[0]["created_at"], self.config.digest_period_seconds):
            return False
        resources = list(self.store.resources.find({"_id": {"$in": [i["resource_id"] for i in items]}},
                                                   session=session).sort("published_at", 1))
        number = int(last.get("count", 0)) + 1
        envelope = {"id": f"digest-{pid}-{number}", "type": "resource-digest", "time": utcnow_iso(), "data": {}}
        planned = Planned("resource_digest", pid)
        lookups = self._lookups(session, [(envelope, [planned])])
        try:
            doc = self._delivery(session, envelope, planned, lookups, extra_resources=resources)
        except PermanentError as exc:
            log.error("digest for %s cannot be rendered: %s", pid, exc)
            return False
        if doc is None:
            return False
        if doc["status"] == "parked":  # the contact is gone; its items went with the withdrawal
            return False
        self._insert(session, [doc])
        self.store.digest_items.delete_many({"_id": {"$in": [i["_id"] for i in items]}}, session=session)
        self.store.digests.update_one({"_id": pid}, {"$set": {"sent_at": now, "count": number}}, upsert=True,
                                      session=session)
        return True


def notification_event(doc: dict) -> dict:
    return {"notification_id": doc["_id"], "participant_id": doc.get("participant_id"), "event_id": doc["event_id"],
            "event_type": doc["event_type"], "template": doc["template"], "language": doc.get("language") or "en",
            "channel": "email", "attempts": int(doc.get("attempts", 0))}


def failed_event(doc: dict, error: str, permanent: bool) -> dict:
    return {**notification_event(doc), "error": error[:500], "permanent": permanent}
