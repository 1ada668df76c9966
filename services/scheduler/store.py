"""The scheduler's MongoDB collections: queries and writes only (the rules are in domain/, the
use cases in service.py).

Collections: clinics (with their slots), slots (per-slot seat counters), registrations (one per
clinic and person), people (read model from registry events), topics (codes seen in
skill-registered), invitations, reminders (claims), feedback, spaces.
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING
from pymongo.client_session import ClientSession
from pymongo.database import Database

from shared.topics import KnownTopics

from services.scheduler.domain.errors import NotFound
from services.scheduler.domain.seats import ACTIVE, CONFIRMED, WAITLISTED

Session = ClientSession | None


def registration_id(clinic_id: str, participant_id: str) -> str:
    return f"{clinic_id}|{participant_id}"


class Store:
    def __init__(self, db: Database):
        self.db = db
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

    # ----- clinics

    def clinic(self, clinic_id: str, session: Session = None) -> dict:
        clinic = self.clinics.find_one({"_id": clinic_id}, session=session)
        if clinic is None:
            raise NotFound("no such clinic")
        return clinic

    def clinics_matching(self, topic: str | None, language: str | None, kind: str | None,
                         upcoming_after: datetime | None, limit: int = 500) -> list[dict]:
        """Clinics on a topic, in a language (main or interpretation), of a kind; with
        `upcoming_after`, only scheduled ones with a slot after it."""
        match: dict = {}
        if upcoming_after is not None:
            match["slots.start"] = {"$gt": upcoming_after}
            match["status"] = "scheduled"
        if topic:
            match["topics"] = topic
        if language:
            match["$or"] = [{"language": language}, {"interpretation": language}]
        if kind:
            match["kind"] = kind
        return list(self.clinics.find(match).sort("first_start", ASCENDING).limit(limit))

    def upcoming_clinics(self, now: datetime, session: Session = None) -> list[dict]:
        """Scheduled clinics with a slot still ahead."""
        return list(self.clinics.find({"status": "scheduled", "slots.start": {"$gt": now}},
                                      session=session).sort("first_start", ASCENDING))

    def clinics_starting_between(self, after: datetime, until: datetime) -> list[dict]:
        return list(self.clinics.find({"status": "scheduled", "slots.start": {"$gt": after, "$lte": until}}))

    def clinics_not_yet_started(self, now: datetime, session: Session = None) -> list[dict]:
        return list(self.clinics.find({"status": "scheduled", "first_start": {"$gt": now}}, session=session))

    def clinics_by_ids(self, ids: list[str], exclude_status: str | None = None) -> list[dict]:
        match: dict = {"_id": {"$in": ids}}
        if exclude_status:
            match["status"] = {"$ne": exclude_status}
        return list(self.clinics.find(match))

    def insert_clinic(self, clinic: dict, counters: list[dict], session: Session) -> None:
        self.clinics.insert_one(clinic, session=session)
        self.slots.insert_many(counters, session=session)

    def set_clinic(self, clinic_id: str, changes: dict, session: Session) -> None:
        self.clinics.update_one({"_id": clinic_id}, {"$set": changes}, session=session)

    def replace_in_clinics(self, field: str, old: str, new: str, session: Session) -> None:
        """Every occurrence of `old` in the clinics' `field` list becomes `new`."""
        self.clinics.update_many({field: old}, {"$set": {f"{field}.$[who]": new}}, array_filters=[{"who": old}],
                                 session=session)

    # ----- seat counters

    def seat_counts(self, clinic_id: str) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.slots.find({"clinic_id": clinic_id})}

    def seat_counter(self, slot_id: str, session: Session) -> dict:
        return self.slots.find_one({"_id": slot_id}, session=session)

    def take_place(self, counter: dict, confirmed: bool, session: Session) -> bool:
        """Count one more arrival (and a confirmed seat when `confirmed`), only if the counter still
        holds what was read: False when someone else changed it in between."""
        result = self.slots.update_one(
            {"_id": counter["_id"], "confirmed": counter["confirmed"], "arrivals": counter["arrivals"]},
            {"$inc": {"confirmed": 1 if confirmed else 0, "arrivals": 1}}, session=session)
        return result.modified_count == 1

    def free_seat(self, slot_id: str, session: Session) -> None:
        self.slots.update_one({"_id": slot_id}, {"$inc": {"confirmed": -1}}, session=session)

    def reset_seats(self, clinic_id: str, session: Session) -> None:
        self.slots.update_many({"clinic_id": clinic_id}, {"$set": {"confirmed": 0}}, session=session)

    # ----- registrations

    def registration(self, clinic_id: str, participant_id: str, session: Session = None) -> dict | None:
        return self.registrations.find_one({"_id": registration_id(clinic_id, participant_id)}, session=session)

    def save_registration(self, registration: dict, session: Session) -> None:
        self.registrations.replace_one({"_id": registration["_id"]}, registration, upsert=True, session=session)

    def set_registration(self, registration_key: str, changes: dict, session: Session) -> None:
        self.registrations.update_one({"_id": registration_key}, {"$set": changes}, session=session)

    def clinic_registrations(self, clinic_id: str, statuses=None, session: Session = None) -> list[dict]:
        match: dict = {"clinic_id": clinic_id}
        if statuses is not None:
            match["status"] = {"$in": list(statuses)}
        return list(self.registrations.find(match, session=session).sort("seq", ASCENDING))

    def confirmed_ids(self, clinic_id: str, session: Session) -> set[str]:
        return {r["participant_id"] for r in self.registrations.find(
            {"clinic_id": clinic_id, "status": CONFIRMED}, {"participant_id": 1}, session=session)}

    def confirmed_in_slot(self, slot_id: str) -> list[dict]:
        return list(self.registrations.find({"slot_id": slot_id, "status": CONFIRMED}))

    def waiting_ahead(self, slot_id: str, seq: int, session: Session = None) -> list[int]:
        """Arrival numbers of those waiting for the slot who came before `seq`."""
        return [doc["seq"] for doc in self.registrations.find(
            {"slot_id": slot_id, "status": WAITLISTED, "seq": {"$lt": seq}}, {"seq": 1}, session=session)]

    def first_waiting(self, slot_id: str, how_many: int, session: Session) -> list[dict]:
        return list(self.registrations.find({"slot_id": slot_id, "status": WAITLISTED}, session=session)
                    .sort("seq", ASCENDING).limit(how_many))

    def cancel_registrations(self, clinic_id: str, changes: dict, session: Session) -> None:
        self.registrations.update_many({"clinic_id": clinic_id, "status": {"$in": list(ACTIVE)}},
                                       {"$set": changes}, session=session)

    def active_registrations_of(self, participant_id: str, session: Session) -> list[dict]:
        return list(self.registrations.find({"participant_id": participant_id, "status": {"$in": list(ACTIVE)}},
                                            session=session))

    def confirmed_registrations_of(self, participant_id: str) -> list[dict]:
        return list(self.registrations.find({"participant_id": participant_id, "status": CONFIRMED}))

    def rename_participant(self, participant_id: str, alias: str, session: Session) -> None:
        """Erasure: the person's history is kept under an anonymous id; their comments go."""
        self.registrations.update_many({"participant_id": participant_id}, {"$set": {"participant_id": alias}},
                                       session=session)
        self.feedback.update_many({"participant_id": participant_id}, {"$set": {"participant_id": alias, "comment": ""}},
                                  session=session)
        self.invitations.delete_many({"participant_id": participant_id}, session=session)
        self.reminders.delete_many({"participant_id": participant_id}, session=session)

    # ----- people

    def person(self, participant_id: str, session: Session = None) -> dict | None:
        return self.people.find_one({"_id": participant_id}, session=session)

    def is_withdrawn(self, participant_id: str) -> bool:
        return self.people.find_one({"_id": participant_id, "withdrawn": True}, {"_id": 1}) is not None

    def save_person(self, person: dict, session: Session) -> None:
        self.people.replace_one({"_id": person["_id"]}, person, upsert=True, session=session)

    def set_person(self, participant_id: str, changes: dict, session: Session) -> None:
        self.people.update_one({"_id": participant_id}, {"$set": changes}, session=session)

    def people_speaking(self, languages: list[str], session: Session = None):
        return self.people.find({"withdrawn": {"$ne": True}, "languages": {"$in": languages}}, session=session)

    def learners_of(self, topic: str) -> dict[str, str]:
        """Participant id -> time zone of everyone who wants to learn `topic`."""
        return {p["_id"]: p["timezone"] for p in self.people.find({"learn": topic, "withdrawn": {"$ne": True}},
                                                                  {"timezone": 1})}

    # ----- invitations and reminders

    def invited(self, clinic_id: str, participant_id: str, session: Session) -> bool:
        return self.invitations.find_one({"_id": registration_id(clinic_id, participant_id)}, {"_id": 1},
                                         session=session) is not None

    def insert_invitations(self, clinic_id: str, invites: list[tuple[str, str]], now: datetime,
                           session: Session) -> None:
        self.invitations.insert_many([{"_id": registration_id(clinic_id, pid), "clinic_id": clinic_id,
                                       "participant_id": pid, "reason": reason, "at": now}
                                      for pid, reason in invites], session=session)

    def reminder_claimed(self, key: str, session: Session = None) -> bool:
        return self.reminders.find_one({"_id": key}, {"_id": 1}, session=session) is not None

    def claim_reminder(self, key: str, clinic_id: str, participant_id: str, now: datetime, session: Session) -> None:
        self.reminders.insert_one({"_id": key, "clinic_id": clinic_id, "participant_id": participant_id, "at": now},
                                  session=session)

    # ----- feedback

    def feedback_given(self, clinic_id: str, participant_id: str, session: Session) -> bool:
        return self.feedback.find_one({"_id": registration_id(clinic_id, participant_id)}, {"_id": 1},
                                      session=session) is not None

    def insert_feedback(self, record: dict, session: Session) -> None:
        self.feedback.insert_one({"_id": registration_id(record["clinic_id"], record["participant_id"]), **record},
                                 session=session)

    # ----- spaces

    def insert_space(self, space: dict) -> None:
        self.spaces.insert_one(space)

    def spaces_matching(self, topic: str | None, language: str | None, kind: str | None, region: str | None,
                        limit: int = 500) -> list[dict]:
        match = {key: value for key, value in (("topics", topic), ("languages", language), ("kind", kind),
                                                ("region", region)) if value}
        return list(self.spaces.find(match).sort("title", ASCENDING).limit(limit))

    def spaces_with_start(self) -> list[dict]:
        return list(self.spaces.find({"start": {"$ne": None}}))

    # ----- figures

    def figures_input(self) -> tuple[list[dict], list[dict]]:
        """Every clinic (without link or description) and every feedback's rating."""
        clinics = list(self.clinics.find({}, {"meeting_url": 0, "description": 0}))
        feedback = list(self.feedback.find({}, {"clinic_id": 1, "useful": 1, "rating": 1}))
        return clinics, feedback

    def counts(self) -> dict[str, int]:
        return {"registrations": self.registrations.count_documents({"status": {"$in": list(ACTIVE)}}),
                "waitlisted": self.registrations.count_documents({"status": WAITLISTED}),
                "invitations": self.invitations.count_documents({}),
                "spaces": self.spaces.count_documents({})}
