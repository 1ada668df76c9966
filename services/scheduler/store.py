"""The scheduler's MongoDB collections and every write it makes (state + outbox in one transaction).

Collections: clinics (with their slots), slots (per-slot seat counters), registrations (one per
clinic and person, _id "<clinic>|<person>"), people (read model from registry events), topics
(codes seen in skill-registered), invitations, reminders (claims), feedback, spaces.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

from pymongo import ASCENDING, ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from shared.mongo import in_transaction
from shared.outbox import Outbox
from shared.topics import KnownTopics

from services.scheduler import SERVICE
from services.scheduler.planning import due_lead, invitation_reason, program_stats
from services.scheduler.seats import (
    ACTIVE, CANCELLED, CONFIRMED, WAITLISTED, RegistrationRefused, after_cancellation, check_interpretation,
    check_open, waitlist_position,
)

Clock = Callable[[], datetime]


class NotFound(Exception):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def new_id() -> str:
    return uuid.uuid4().hex[:16]


def registration_id(clinic_id: str, participant_id: str) -> str:
    return f"{clinic_id}|{participant_id}"


class Store:
    def __init__(self, db: Database, clock: Clock | None = None):
        self.db = db
        self.clock = clock or utcnow
        self.outbox = Outbox(db, SERVICE)
        self.clinics = db["clinics"]
        self.slots = db["slots"]
        self.registrations = db["registrations"]
        self.people = db["people"]
        self.known_topics = KnownTopics(db["topics"])
        self.invitations = db["invitations"]
        self.reminders = db["reminders"]
        self.feedback = db["feedback"]
        self.spaces = db["spaces"]

    def ensure_indexes(self) -> None:
        self.registrations.create_index([("slot_id", ASCENDING), ("status", ASCENDING), ("seq", ASCENDING)])
        self.registrations.create_index([("participant_id", ASCENDING)])
        self.clinics.create_index([("first_start", ASCENDING)])
        self.invitations.create_index([("participant_id", ASCENDING)])
        self.feedback.create_index([("clinic_id", ASCENDING)])

    # ----- reading

    def now(self) -> datetime:
        return self.clock()

    def clinic(self, clinic_id: str, session: ClientSession | None = None) -> dict:
        clinic = self.clinics.find_one({"_id": clinic_id}, session=session)
        if clinic is None:
            raise NotFound("no such clinic")
        return clinic

    def person(self, participant_id: str) -> dict | None:
        person = self.people.find_one({"_id": participant_id})
        return None if person is None or person.get("withdrawn") else person

    def seat_counts(self, clinic: dict) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.slots.find({"clinic_id": clinic["_id"]})}

    def registration(self, clinic_id: str, participant_id: str) -> dict | None:
        return self.registrations.find_one({"_id": registration_id(clinic_id, participant_id)})

    def position(self, registration: dict, session: ClientSession | None = None) -> int | None:
        if registration["status"] != WAITLISTED:
            return None
        ahead = [doc["seq"] for doc in self.registrations.find(
            {"slot_id": registration["slot_id"], "status": WAITLISTED, "seq": {"$lt": registration["seq"]}},
            {"seq": 1}, session=session)]
        return waitlist_position(ahead, registration["seq"])

    # ----- events

    @staticmethod
    def slot_data(slot: dict) -> dict:
        return {"slot_id": slot["slot_id"], "start": iso(slot["start"]), "minutes": slot["minutes"],
                "seats": slot["seats"]}

    def clinic_data(self, clinic: dict, change: str) -> dict:
        return {"clinic_id": clinic["_id"], "revision": clinic["revision"], "change": change, "kind": clinic["kind"],
                "title": clinic["title"], "description": clinic["description"], "topics": clinic["topics"],
                "sharers": clinic["sharers"], "slots": [self.slot_data(s) for s in clinic["slots"]],
                "language": clinic["language"], "interpretation": clinic["interpretation"],
                "region": clinic.get("region"), "theme": clinic.get("theme")}

    @staticmethod
    def registration_data(clinic: dict, registration: dict, reason: str, position: int | None = None) -> dict:
        slot = next(s for s in clinic["slots"] if s["slot_id"] == registration["slot_id"])
        confirmed = registration["status"] == CONFIRMED
        return {"clinic_id": clinic["_id"], "slot_id": slot["slot_id"], "participant_id": registration["participant_id"],
                "status": registration["status"], "reason": reason, "position": position, "title": clinic["title"],
                "start": iso(slot["start"]), "minutes": slot["minutes"], "language": clinic["language"],
                "interpretation": registration.get("interpretation"),
                # The meeting link travels only to someone holding a confirmed seat.
                "meeting_url": clinic.get("meeting_url") if confirmed and clinic["status"] != "cancelled" else None}

    def invitation_data(self, clinic: dict, participant_id: str, reason: str) -> dict:
        return {"clinic_id": clinic["_id"], "participant_id": participant_id, "kind": clinic["kind"],
                "title": clinic["title"], "topics": clinic["topics"],
                "slots": [self.slot_data(s) for s in clinic["slots"]], "language": clinic["language"],
                "interpretation": clinic["interpretation"], "reason": reason}

    # ----- clinics

    def schedule(self, data: dict) -> dict:
        now = self.now()
        clinic_id = new_id()
        slots = [{"slot_id": new_id(), "start": s["start"], "minutes": s["minutes"], "seats": data["seats"]}
                 for s in sorted(data["slots"], key=lambda s: s["start"])]
        clinic = {"_id": clinic_id, "kind": data["kind"], "title": data["title"], "description": data["description"],
                  "topics": list(dict.fromkeys(data["topics"])), "sharers": list(dict.fromkeys(data["sharers"])),
                  "slots": slots, "first_start": slots[0]["start"], "language": data["language"],
                  "interpretation": list(dict.fromkeys(data["interpretation"])), "seats": data["seats"],
                  "region": data.get("region"), "theme": data.get("theme"), "meeting_url": data.get("meeting_url"),
                  "status": "scheduled", "revision": 1, "created_at": now, "updated_at": now}

        def work(session):
            self.clinics.insert_one(clinic, session=session)
            self.slots.insert_many([{"_id": s["slot_id"], "clinic_id": clinic_id, "seats": s["seats"], "confirmed": 0,
                                     "arrivals": 0} for s in slots], session=session)
            self.outbox.add(session, "clinic-scheduled", self.clinic_data(clinic, "created"))
            self._invite_all(session, clinic)

        in_transaction(self.db, work)
        return clinic

    def _invite_all(self, session: ClientSession, clinic: dict) -> int:
        languages = [clinic["language"], *clinic["interpretation"]]
        candidates = self.people.find({"withdrawn": {"$ne": True}, "languages": {"$in": languages}}, session=session)
        invites = [(person["_id"], reason) for person in candidates
                   if (reason := invitation_reason(clinic, person)) and person["_id"] not in clinic["sharers"]]
        if not invites:
            return 0
        now = self.now()
        self.invitations.insert_many([{"_id": registration_id(clinic["_id"], pid), "clinic_id": clinic["_id"],
                                       "participant_id": pid, "reason": reason, "at": now} for pid, reason in invites],
                                     session=session)
        self.outbox.add_many(session, [("clinic-invited", self.invitation_data(clinic, pid, reason))
                                       for pid, reason in invites])
        return len(invites)

    def _invite_person(self, session: ClientSession, person: dict) -> None:
        """A person who registers (or gains an interest) after a clinic was scheduled is invited too,
        once: the invitation's _id is the clinic and the person."""
        if person.get("withdrawn"):
            return
        upcoming = self.clinics.find({"status": "scheduled", "first_start": {"$gt": self.now()}}, session=session)
        for clinic in upcoming:
            reason = invitation_reason(clinic, person)
            if not reason or person["_id"] in clinic["sharers"]:
                continue
            key = registration_id(clinic["_id"], person["_id"])
            if self.invitations.find_one({"_id": key}, {"_id": 1}, session=session):
                continue
            self.invitations.insert_one({"_id": key, "clinic_id": clinic["_id"], "participant_id": person["_id"],
                                         "reason": reason, "at": self.now()}, session=session)
            self.outbox.add(session, "clinic-invited", self.invitation_data(clinic, person["_id"], reason))

    def update(self, clinic_id: str, patch: dict) -> dict:
        now = self.now()

        def work(session):
            clinic = self.clinic(clinic_id, session)
            if clinic["status"] != "scheduled":
                raise RegistrationRefused(f"a {clinic['status']} clinic cannot be changed", 409)
            changes = {k: patch[k] for k in ("title", "description", "meeting_url") if k in patch}
            slots = [dict(s) for s in clinic["slots"]]
            for change in patch.get("slots", []):
                slot = next((s for s in slots if s["slot_id"] == change["slot_id"]), None)
                if slot is None:
                    raise RegistrationRefused(f"no slot {change['slot_id']!r} in this clinic", 422)
                if change["start"] <= now:
                    raise RegistrationRefused("a slot cannot be moved into the past", 422)
                slot.update(start=change["start"], minutes=change["minutes"])
            slots.sort(key=lambda s: s["start"])
            changes.update(slots=slots, first_start=slots[0]["start"], revision=clinic["revision"] + 1, updated_at=now)
            clinic.update(changes)
            self.clinics.update_one({"_id": clinic_id}, {"$set": changes}, session=session)
            self.outbox.add(session, "clinic-scheduled", self.clinic_data(clinic, "updated"))
            self._tell_registered(session, clinic, "clinic_updated")
            return clinic

        return in_transaction(self.db, work)

    def cancel(self, clinic_id: str) -> dict:
        now = self.now()

        def work(session):
            clinic = self.clinic(clinic_id, session)
            if clinic["status"] != "scheduled":
                raise RegistrationRefused(f"a {clinic['status']} clinic cannot be cancelled", 409)
            clinic.update(status="cancelled", revision=clinic["revision"] + 1, updated_at=now)
            self.clinics.update_one({"_id": clinic_id}, {"$set": {"status": "cancelled", "revision": clinic["revision"],
                                                                  "updated_at": now}}, session=session)
            self.outbox.add(session, "clinic-scheduled", self.clinic_data(clinic, "cancelled"))
            self._tell_registered(session, clinic, "clinic_cancelled")
            self.registrations.update_many({"clinic_id": clinic_id, "status": {"$in": list(ACTIVE)}},
                                           {"$set": {"status": CANCELLED, "cancelled_at": now,
                                                     "cancel_reason": "clinic_cancelled"}}, session=session)
            self.slots.update_many({"clinic_id": clinic_id}, {"$set": {"confirmed": 0}}, session=session)
            return clinic

        return in_transaction(self.db, work)

    def _tell_registered(self, session: ClientSession, clinic: dict, reason: str) -> None:
        events = []
        for registration in self.registrations.find({"clinic_id": clinic["_id"], "status": {"$in": list(ACTIVE)}},
                                                    session=session).sort("seq", ASCENDING):
            if reason == "clinic_cancelled":
                registration = {**registration, "status": CANCELLED}
            events.append(("clinic-registration-changed", self.registration_data(
                clinic, registration, reason, self.position(registration, session))))
        self.outbox.add_many(session, events)

    # ----- seats

    def register(self, clinic_id: str, participant_id: str, slot_id: str, interpretation: str | None) -> dict:
        now = self.now()
        key = registration_id(clinic_id, participant_id)

        def work(session):
            clinic = self.clinic(clinic_id, session)
            slot = next((s for s in clinic["slots"] if s["slot_id"] == slot_id), None)
            if slot is None:
                raise RegistrationRefused(f"no slot {slot_id!r} in this clinic", 422)
            check_open(clinic, slot, now)
            check_interpretation(clinic, interpretation)
            existing = self.registrations.find_one({"_id": key}, {"status": 1}, session=session)
            if existing and existing["status"] in ACTIVE:
                raise RegistrationRefused(f"already {existing['status']} for this clinic", 409)
            # The conditional $inc is the seat: it matches only while confirmed < seats, and the
            # transaction makes a concurrent taker of the same seat conflict and retry.
            counter = self.slots.find_one_and_update(
                {"_id": slot_id, "$expr": {"$lt": ["$confirmed", "$seats"]}},
                {"$inc": {"confirmed": 1, "arrivals": 1}}, return_document=ReturnDocument.AFTER, session=session)
            status = CONFIRMED
            if counter is None:
                status = WAITLISTED
                counter = self.slots.find_one_and_update({"_id": slot_id}, {"$inc": {"arrivals": 1}},
                                                         return_document=ReturnDocument.AFTER, session=session)
            registration = {"_id": key, "clinic_id": clinic_id, "slot_id": slot_id, "participant_id": participant_id,
                            "status": status, "seq": counter["arrivals"], "interpretation": interpretation,
                            "registered_at": now}
            self.registrations.replace_one({"_id": key}, registration, upsert=True, session=session)
            position = self.position(registration, session)
            self.outbox.add(session, "clinic-registration-changed",
                            self.registration_data(clinic, registration, "registered", position))
            return {"status": status, "position": position, "slot": slot_id, "clinic": clinic_id,
                    "participant": participant_id, "interpretation": interpretation}

        return in_transaction(self.db, work)

    def unregister(self, clinic_id: str, participant_id: str, reason: str = "cancelled_by_participant") -> dict:
        def work(session):
            clinic = self.clinic(clinic_id, session)
            registration = self.registrations.find_one({"_id": registration_id(clinic_id, participant_id)},
                                                       session=session)
            if registration is None or registration["status"] not in ACTIVE:
                raise NotFound("no active registration for this person")
            if clinic["status"] == "completed":
                raise RegistrationRefused("this clinic has already taken place", 409)
            return self._free(session, clinic, registration, reason, tell=True)

        return in_transaction(self.db, work)

    def _free(self, session: ClientSession, clinic: dict, registration: dict, reason: str, tell: bool) -> dict:
        now = self.now()
        self.registrations.update_one({"_id": registration["_id"]}, {"$set": {
            "status": CANCELLED, "cancelled_at": now, "cancel_reason": reason}}, session=session)
        slot = next(s for s in clinic["slots"] if s["slot_id"] == registration["slot_id"])
        waitlist = []
        if registration["status"] == CONFIRMED and now < slot["start"]:
            waitlist = list(self.registrations.find({"slot_id": slot["slot_id"], "status": WAITLISTED},
                                                    session=session).sort("seq", ASCENDING).limit(1))
        outcome = after_cancellation(registration["status"], waitlist)
        events = []
        if tell:
            events.append(("clinic-registration-changed", self.registration_data(
                clinic, {**registration, "status": CANCELLED}, reason)))
        if outcome.promoted is not None:
            promoted = {**outcome.promoted, "status": CONFIRMED}
            self.registrations.update_one({"_id": promoted["_id"]}, {"$set": {"status": CONFIRMED, "promoted_at": now}},
                                          session=session)
            events.append(("clinic-registration-changed", self.registration_data(clinic, promoted, "promoted")))
        elif registration["status"] == CONFIRMED:
            self.slots.update_one({"_id": slot["slot_id"]}, {"$inc": {"confirmed": -1}}, session=session)
        self.outbox.add_many(session, events)
        return {"status": CANCELLED, "promoted": outcome.promoted["participant_id"] if outcome.promoted else None}

    # ----- completion and feedback

    def complete(self, clinic_id: str, data: dict) -> dict:
        now = self.now()

        def work(session):
            clinic = self.clinic(clinic_id, session)
            if clinic["status"] != "scheduled":
                raise RegistrationRefused(f"a {clinic['status']} clinic cannot be completed", 409)
            confirmed = {r["participant_id"] for r in self.registrations.find(
                {"clinic_id": clinic_id, "status": CONFIRMED}, {"participant_id": 1}, session=session)}
            attendees = list(dict.fromkeys(data["attendees"]))
            strangers = [pid for pid in attendees if pid not in confirmed and pid not in clinic["sharers"]]
            if strangers:
                raise RegistrationRefused(f"not registered for this clinic: {', '.join(strangers[:10])}", 422)
            changes = {"status": "completed", "attendees": attendees, "completed_at": now,
                       "confirmed_attendees": [pid for pid in attendees if pid in confirmed],
                       "confirmed_count": len(confirmed), "recording_url": data.get("recording_url"),
                       "recording_consent": bool(data.get("recording_consent")), "revision": clinic["revision"] + 1}
            self.clinics.update_one({"_id": clinic_id}, {"$set": changes}, session=session)
            clinic.update(changes)
            self.outbox.add(session, "session-completed", {
                "clinic_id": clinic_id, "title": clinic["title"], "kind": clinic["kind"], "topics": clinic["topics"],
                "language": clinic["language"], "sharers": clinic["sharers"], "attendees": attendees,
                "recording_url": clinic["recording_url"], "recording_consent": clinic["recording_consent"],
                "completed_at": iso(now)})
            return clinic

        return in_transaction(self.db, work)

    def give_feedback(self, clinic_id: str, data: dict) -> dict:
        def work(session):
            clinic = self.clinic(clinic_id, session)
            pid = data["participant"]
            if clinic["status"] != "completed" or pid not in clinic.get("attendees", []):
                raise RegistrationRefused("only people who attended this clinic can give feedback on it", 403)
            key = registration_id(clinic_id, pid)
            if self.feedback.find_one({"_id": key}, {"_id": 1}, session=session):
                raise RegistrationRefused("feedback for this clinic was already given", 409)
            record = {"_id": key, "clinic_id": clinic_id, "participant_id": pid, "useful": data["useful"],
                      "rating": data["rating"], "comment": data["comment"], "at": self.now()}
            self.feedback.insert_one(record, session=session)
            self.outbox.add(session, "feedback-submitted", {
                "clinic_id": clinic_id, "participant_id": pid, "useful": data["useful"], "rating": data["rating"],
                "comment": data["comment"]})
            return record

        try:
            return in_transaction(self.db, work)
        except DuplicateKeyError as exc:
            raise RegistrationRefused("feedback for this clinic was already given", 409) from exc

    # ----- reminders

    def send_reminders(self) -> int:
        """Claim and emit each due reminder once: the claim (_id slot|person|lead) and the outbox
        event share a transaction, so two workers or a restart never send one twice."""
        now = self.now()
        sent = 0
        upcoming = self.clinics.find({"status": "scheduled", "slots.start": {"$gt": now, "$lte": now + timedelta(hours=24)}})
        for clinic in upcoming:
            for slot in clinic["slots"]:
                lead = due_lead(slot["start"], now)
                if lead is None:
                    continue
                for registration in self.registrations.find({"slot_id": slot["slot_id"], "status": CONFIRMED}):
                    sent += self._remind(clinic, slot, registration, lead)
        return sent

    def _remind(self, clinic: dict, slot: dict, registration: dict, lead: str) -> int:
        key = f"{slot['slot_id']}|{registration['participant_id']}|{lead}"
        if self.reminders.find_one({"_id": key}, {"_id": 1}):
            return 0

        def work(session):
            if self.reminders.find_one({"_id": key}, {"_id": 1}, session=session):
                return 0
            self.reminders.insert_one({"_id": key, "clinic_id": clinic["_id"], "participant_id": registration["participant_id"],
                                       "at": self.now()}, session=session)
            self.outbox.add(session, "clinic-reminder", {
                "clinic_id": clinic["_id"], "slot_id": slot["slot_id"], "participant_id": registration["participant_id"],
                "lead": lead, "title": clinic["title"], "start": iso(slot["start"]), "minutes": slot["minutes"],
                "language": clinic["language"], "meeting_url": clinic.get("meeting_url")})
            return 1

        try:
            return in_transaction(self.db, work)
        except DuplicateKeyError:
            return 0  # another worker claimed it first

    # ----- read model (registry events)

    def _fresh(self, session, participant_id: str, revision: int) -> dict | None:
        """The held state, or None when this event is older than what we hold (ignored)."""
        held = self.people.find_one({"_id": participant_id}, session=session) or {"_id": participant_id, "revision": 0}
        if revision < held.get("revision", 0) or held.get("withdrawn"):
            return None
        return held

    def apply_participant(self, session: ClientSession, data: dict) -> None:
        held = self._fresh(session, data["participant_id"], data["revision"])
        if held is None:
            return
        person = {"_id": data["participant_id"], "revision": data["revision"], "languages": data["languages"],
                  "timezone": data["timezone"], "region": data["region"], "group": data.get("group"),
                  "learn": sorted({i["topic"] for i in data["interests"] if i["direction"] == "learn"}),
                  "share": sorted({i["topic"] for i in data["interests"] if i["direction"] == "share"}),
                  "tokens_valid_after": data.get("tokens_valid_after")}
        self.people.replace_one({"_id": person["_id"]}, person, upsert=True, session=session)
        self._invite_person(session, person)

    def apply_skill(self, session: ClientSession, data: dict) -> None:
        self.known_topics.learn(session, data["topic"])
        held = self._fresh(session, data["participant_id"], data["revision"])
        if held is None:
            return
        field = data["direction"]
        person = {**held, "revision": data["revision"], "languages": data["languages"], "timezone": data["timezone"],
                  "region": data["region"], "group": data.get("group"),
                  field: sorted(set(held.get(field, [])) | {data["topic"]})}
        person.setdefault("learn", [])
        person.setdefault("share", [])
        self.people.replace_one({"_id": person["_id"]}, person, upsert=True, session=session)
        self._invite_person(session, person)

    def apply_skill_withdrawn(self, session: ClientSession, data: dict) -> None:
        held = self._fresh(session, data["participant_id"], data["revision"])
        if held is None or "languages" not in held:
            return
        field = data["direction"]
        self.people.update_one({"_id": held["_id"]}, {"$set": {
            "revision": data["revision"], field: [t for t in held.get(field, []) if t != data["topic"]]}},
            session=session)

    def apply_withdrawn(self, session: ClientSession, data: dict) -> None:
        """Erasure: the person's profile goes (a tombstone keeps later stale events out), active seats
        are freed (the waitlist moves up), and their history is kept only under an anonymous id."""
        pid = data["participant_id"]
        self.people.replace_one({"_id": pid}, {"_id": pid, "revision": max(data["revision"], 1), "withdrawn": True},
                                upsert=True, session=session)
        for registration in self.registrations.find({"participant_id": pid, "status": {"$in": list(ACTIVE)}},
                                                    session=session):
            clinic = self.clinic(registration["clinic_id"], session)
            self._free(session, clinic, registration, "cancelled_by_participant", tell=False)
        alias = f"erased-{new_id()}"
        self.registrations.update_many({"participant_id": pid}, {"$set": {"participant_id": alias}}, session=session)
        self.feedback.update_many({"participant_id": pid}, {"$set": {"participant_id": alias, "comment": ""}},
                                  session=session)
        for field in ("attendees", "confirmed_attendees", "sharers"):
            self.clinics.update_many({field: pid}, {"$set": {f"{field}.$[who]": alias}},
                                     array_filters=[{"who": pid}], session=session)
        self.invitations.delete_many({"participant_id": pid}, session=session)
        self.reminders.delete_many({"participant_id": pid}, session=session)

    # ----- spaces

    def add_space(self, data: dict) -> dict:
        space = {"_id": new_id(), **data, "created_at": self.now()}
        self.spaces.insert_one(space)
        return space

    # ----- stats

    def stats(self) -> dict:
        clinics = list(self.clinics.find({}, {"meeting_url": 0, "description": 0}))
        confirmed = {c["_id"]: c.get("confirmed_count", 0) for c in clinics}
        feedback = list(self.feedback.find({}, {"clinic_id": 1, "useful": 1, "rating": 1}))
        figures = program_stats(clinics, confirmed, feedback)
        figures["registrations"] = self.registrations.count_documents({"status": {"$in": list(ACTIVE)}})
        figures["waitlisted"] = self.registrations.count_documents({"status": WAITLISTED})
        figures["invitations"] = self.invitations.count_documents({})
        figures["spaces"] = self.spaces.count_documents({})
        return figures
