"""The scheduler's MongoDB collections: queries and writes only (the rules are in domain/, the
use cases in service.py).

Collections: clinics (with their slots), slots (per-slot seat counters), registrations (one per
clinic and person; opaque ids), people (read model from registry events), erased (keyed hashes of
erased people, so their stale events are ignored), connections (who already has a connection on
which topic, from the matcher's events), topic_demand and region_demand (the counters the
suggestions read, domain/demand.py), topics (codes seen in skill-registered), invitations,
reminders (claims of every reminder and warning sent), feedback, interpretation (one request per
slot and interpretation language), spaces.
"""
from __future__ import annotations

from datetime import datetime

from pymongo import ASCENDING, DESCENDING, ReplaceOne, ReturnDocument, UpdateOne
from pymongo.client_session import ClientSession
from pymongo.database import Database

from shared.audit import AuditLog
from shared.topics import KnownTopics

from services.scheduler.domain.errors import NotFound
from services.scheduler.domain.seats import ACTIVE, CONFIRMED, WAITLISTED

Session = ClientSession | None
PUBLIC_STATUSES = ("scheduled", "completed", "cancelled")  # a proposal is not public


def invitation_key(clinic_id: str, participant_id: str) -> str:
    return f"{clinic_id}|{participant_id}"


class ClinicRecords:
    """Clinics and their seat counters."""

    # ----- clinics

    def clinic(self, clinic_id: str, session: Session = None) -> dict:
        clinic = self.clinics.find_one({"_id": clinic_id}, session=session)
        if clinic is None:
            raise NotFound("no such clinic")
        return clinic

    def clinics_matching(self, topic: str | None, language: str | None, kind: str | None,
                         upcoming_after: datetime | None, limit: int = 500) -> list[dict]:
        """Public clinics on a topic, in a language (main or interpretation), of a kind; with
        `upcoming_after`, only scheduled ones with a slot after it."""
        match: dict = {"status": {"$in": list(PUBLIC_STATUSES)}}
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

    def proposals(self, limit: int = 500) -> list[dict]:
        return list(self.clinics.find({"status": "proposed"}).sort("first_start", ASCENDING).limit(limit))

    def upcoming_clinics(self, now: datetime, session: Session = None) -> list[dict]:
        """Scheduled clinics with a slot still ahead."""
        return list(self.clinics.find({"status": "scheduled", "slots.start": {"$gt": now}},
                                      session=session).sort("first_start", ASCENDING))

    def clinics_starting_between(self, after: datetime, until: datetime) -> list[dict]:
        return list(self.clinics.find({"status": "scheduled", "slots.start": {"$gt": after, "$lte": until}}))

    def clinics_not_yet_started(self, now: datetime, session: Session = None) -> list[dict]:
        return list(self.clinics.find({"status": "scheduled", "first_start": {"$gt": now}}, session=session))

    def clinics_by_ids(self, ids: list[str]) -> list[dict]:
        return list(self.clinics.find({"_id": {"$in": ids}, "status": {"$in": ["scheduled", "completed"]}}))

    def clinics_presented_by(self, participant_id: str) -> list[dict]:
        return list(self.clinics.find({"sharers": participant_id, "status": {"$in": ["scheduled", "completed"]}}))

    def clinic_history(self) -> list[dict]:
        """Every held or scheduled clinic's topics, first start, status and presenters."""
        return list(self.clinics.find({"status": {"$in": ["scheduled", "completed"]}},
                                      {"topics": 1, "first_start": 1, "status": 1, "sharers": 1}))

    def quarterly_dates(self, region: str | None, theme: str | None) -> list[datetime]:
        """First starts of quarterly clinics held or scheduled for this region (or theme)."""
        match: dict = {"kind": "quarterly", "status": {"$in": ["scheduled", "completed", "proposed"]}}
        if region:
            match["region"] = region
        if theme:
            match["theme"] = theme
        return [c["first_start"] for c in self.clinics.find(match, {"first_start": 1})]

    def insert_clinic(self, clinic: dict, counters: list[dict], session: Session) -> None:
        self.clinics.insert_one(clinic, session=session)
        self.slots.insert_many(counters, session=session)

    def set_clinic(self, clinic_id: str, changes: dict, session: Session) -> None:
        self.clinics.update_one({"_id": clinic_id}, {"$set": changes}, session=session)

    def replace_in_clinics(self, field: str, old: str, new: str, session: Session) -> None:
        """Every occurrence of `old` in the clinics' `field` list becomes `new`."""
        self.clinics.update_many({field: old}, {"$set": {f"{field}.$[who]": new}}, array_filters=[{"who": old}],
                                 session=session)

    def replace_unconsented(self, old: str, new: str, session: Session) -> None:
        for field in ("recording.unconsented", "recording.not_recorded"):
            self.clinics.update_many({field: old}, {"$set": {f"{field}.$[who]": new}},
                                     array_filters=[{"who": old}], session=session)

    # ----- seat counters

    def seat_counts(self, clinic_id: str) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.slots.find({"clinic_id": clinic_id})}

    def seat_counts_of(self, clinic_ids: list[str]) -> dict[str, dict[str, dict]]:
        """seat_counts of several clinics in one read: {clinic id: {slot id: counter}}."""
        counts: dict[str, dict[str, dict]] = {}
        for doc in self.slots.find({"clinic_id": {"$in": clinic_ids}}):
            counts.setdefault(doc["clinic_id"], {})[doc["_id"]] = doc
        return counts

    def arrive(self, slot_id: str, session: Session) -> dict:
        """Count one more arrival at the slot and return its counter as it now stands. Being a write,
        it also holds the counter for the rest of the transaction: a concurrent registration for the
        same slot conflicts here and is retried (shared.mongo.in_transaction), so what the caller
        decides from the returned counter cannot be overtaken."""
        return self.slots.find_one_and_update({"_id": slot_id}, {"$inc": {"arrivals": 1}},
                                              return_document=ReturnDocument.AFTER, session=session)

    def take_seat(self, counter: dict, session: Session) -> bool:
        """One more confirmed seat, only if the counter still holds what `arrive` returned."""
        result = self.slots.update_one({"_id": counter["_id"], "confirmed": counter["confirmed"]},
                                       {"$inc": {"confirmed": 1}}, session=session)
        return result.modified_count == 1

    def free_seat(self, slot_id: str, session: Session) -> None:
        self.slots.update_one({"_id": slot_id}, {"$inc": {"confirmed": -1}}, session=session)

    def reset_seats(self, clinic_id: str, session: Session) -> None:
        self.slots.update_many({"clinic_id": clinic_id}, {"$set": {"confirmed": 0}}, session=session)


class RegistrationRecords:
    """Registrations, feedback and the figures."""

    # ----- registrations

    def registration(self, clinic_id: str, participant_id: str, session: Session = None) -> dict | None:
        return self.registrations.find_one({"clinic_id": clinic_id, "participant_id": participant_id},
                                           session=session)

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

    def active_with_interpretation(self, slot_id: str, language: str) -> list[dict]:
        return list(self.registrations.find({"slot_id": slot_id, "interpretation": language,
                                             "status": {"$in": list(ACTIVE)}}))

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

    # ----- feedback

    def feedback_given(self, clinic_id: str, participant_id: str, session: Session) -> bool:
        return self.feedback.find_one({"clinic_id": clinic_id, "participant_id": participant_id}, {"_id": 1},
                                      session=session) is not None

    def insert_feedback(self, record: dict, session: Session) -> None:
        self.feedback.insert_one(record, session=session)

    def feedback_of(self, clinic_id: str) -> list[dict]:
        return list(self.feedback.find({"clinic_id": clinic_id}).sort([("at", DESCENDING), ("_id", DESCENDING)]))

    def feedback_where(self, topic: str | None, since: datetime | None, before: tuple | None = None,
                       limit: int | None = None) -> list[dict]:
        """Feedback newest first, on a topic, since a time, after a page position (at, _id)."""
        match: dict = {}
        if topic:
            match["topics"] = topic
        if since:
            match["at"] = {"$gte": since}
        if before:
            match["$or"] = [{"at": {"$lt": before[0]}}, {"at": before[0], "_id": {"$lt": before[1]}}]
        found = self.feedback.find(match).sort([("at", DESCENDING), ("_id", DESCENDING)])
        return list(found.limit(limit) if limit else found)

    # ----- figures

    def figures_input(self) -> tuple[list[dict], list[dict]]:
        """Every clinic (without link or description) and every feedback's rating and words."""
        clinics = list(self.clinics.find({"status": {"$ne": "proposed"}}, {"meeting_url": 0, "description": 0}))
        feedback = list(self.feedback.find({}, {"clinic_id": 1, "useful": 1, "rating": 1, "comment": 1,
                                                "what_was_useful": 1, "what_to_improve": 1}))
        return clinics, feedback

    def counts(self) -> dict[str, int]:
        return {"registrations": self.registrations.count_documents({"status": {"$in": list(ACTIVE)}}),
                "waitlisted": self.registrations.count_documents({"status": WAITLISTED}),
                "invitations": self.invitations.count_documents({}),
                "spaces": self.spaces.count_documents({}),
                "clinics_proposed": self.clinics.count_documents({"status": "proposed"})}


class PeopleRecords:
    """The read model of people, connections and the suggestions' counters."""

    # ----- people

    def person(self, participant_id: str, session: Session = None) -> dict | None:
        return self.people.find_one({"_id": participant_id}, session=session)

    def people_of(self, participant_ids: list[str], session: Session = None) -> dict[str, dict]:
        return {person["_id"]: person for person in self.people.find({"_id": {"$in": participant_ids}},
                                                                     session=session)}

    def save_person(self, person: dict, session: Session) -> None:
        self.save_people([person], session)

    def save_people(self, persons: list[dict], session: Session) -> None:
        self.people.bulk_write([ReplaceOne({"_id": person["_id"]}, person, upsert=True) for person in persons],
                               session=session)

    def set_person(self, participant_id: str, changes: dict, session: Session) -> None:
        self.people.update_one({"_id": participant_id}, {"$set": changes}, session=session)

    def people_speaking(self, languages: list[str], session: Session = None):
        return self.people.find({"withdrawn": {"$ne": True}, "languages": {"$in": languages}}, session=session)

    def people_sharing(self, participant_ids: list[str]) -> list[dict]:
        return list(self.people.find({"_id": {"$in": participant_ids}}, {"share": 1}))

    def consents(self, participant_ids: list[str], session: Session) -> dict[str, bool]:
        """Each known person's own consent to being recorded."""
        return {p["_id"]: p.get("recording") for p in self.people.find(
            {"_id": {"$in": participant_ids}, "withdrawn": {"$ne": True}}, {"recording": 1}, session=session)}

    def topics_of(self, participant_id: str) -> set[str]:
        person = self.people.find_one({"_id": participant_id}, {"learn": 1, "share": 1}) or {}
        return set(person.get("learn", [])) | set(person.get("share", []))

    def forget_person(self, participant_id: str, session: Session) -> None:
        self.people.delete_one({"_id": participant_id}, session=session)

    def erased_among(self, hashes: list[str], session: Session = None) -> set[str]:
        """Which of these keyed hashes mark an erased person."""
        return {doc["_id"] for doc in self.erased.find({"_id": {"$in": hashes}}, {"_id": 1}, session=session)}

    def mark_erased(self, key: str, revision: int, now: datetime, session: Session) -> None:
        self.erased.update_one({"_id": key}, {"$setOnInsert": {"revision": revision, "at": now}}, upsert=True,
                               session=session)

    def erase_traces(self, participant_id: str, alias: str, session: Session) -> None:
        """Erasure: the person's history is kept under an anonymous id; what they wrote goes."""
        self.registrations.update_many({"participant_id": participant_id}, {"$set": {"participant_id": alias}},
                                       session=session)
        self.feedback.update_many({"participant_id": participant_id}, {"$set": {
            "participant_id": alias, "comment": "", "what_was_useful": "", "what_to_improve": ""}}, session=session)
        self.invitations.delete_many({"participant_id": participant_id}, session=session)
        self.reminders.delete_many({"participant_id": participant_id}, session=session)
        self.connections.update_many({"learners": participant_id}, {"$pull": {"learners": participant_id}},
                                     session=session)

    # ----- connections (matcher events)

    def add_connection(self, match_id: str, topic: str, learners: list[str], session: Session) -> None:
        self.connections.update_one({"_id": match_id}, {"$set": {"topic": topic},
                                                        "$addToSet": {"learners": {"$each": learners}}},
                                    upsert=True, session=session)

    def connected_topics(self, participant_id: str, session: Session = None) -> list[str]:
        return self.connected_topics_of([participant_id], session).get(participant_id, [])

    def connected_topics_of(self, participant_ids: list[str], session: Session = None) -> dict[str, list[str]]:
        """The topics each of these learners has a connection on (those with none left out)."""
        wanted, found = set(participant_ids), {}
        for connection in self.connections.find({"learners": {"$in": sorted(wanted)}}, {"topic": 1, "learners": 1},
                                                session=session):
            for pid in wanted.intersection(connection["learners"]):
                found.setdefault(pid, set()).add(connection["topic"])
        return {pid: sorted(topics) for pid, topics in found.items()}

    # ----- the suggestions' counters

    def move_counters(self, moves: dict[tuple[str, str, str], int], session: Session) -> None:
        """$inc each (kind, key, field) by its amount, creating the counter documents as needed."""
        by_kind: dict[str, dict[str, dict[str, int]]] = {}
        for (kind, key, field), amount in moves.items():
            by_kind.setdefault(kind, {}).setdefault(key, {})[field] = amount
        for kind, counters in by_kind.items():
            collection = self.topic_demand if kind == "topic" else self.region_demand
            collection.bulk_write([UpdateOne({"_id": key}, {"$inc": fields}, upsert=True)
                                   for key, fields in counters.items()], session=session)

    def topic_counters(self, topics: list[str] | None = None) -> list[dict]:
        match = {"_id": {"$in": topics}} if topics is not None else {}
        return list(self.topic_demand.find(match))

    def region_counter(self, region: str) -> dict:
        return self.region_demand.find_one({"_id": region}) or {}


class TeamRecords:
    """Invitations, reminder claims and interpretation requests."""

    # ----- invitations and reminders

    def invited_among(self, clinic_id: str, participant_ids: list[str], session: Session) -> set[str]:
        """Which of these people were invited to the clinic already."""
        keys = {invitation_key(clinic_id, pid): pid for pid in participant_ids}
        return {keys[doc["_id"]] for doc in self.invitations.find({"_id": {"$in": list(keys)}}, {"_id": 1},
                                                                  session=session)}

    def insert_invitations(self, clinic_id: str, invites: list[tuple[str, str]], now: datetime,
                           session: Session) -> None:
        self.invitations.insert_many([{"_id": invitation_key(clinic_id, pid), "clinic_id": clinic_id,
                                       "participant_id": pid, "reason": reason, "at": now}
                                      for pid, reason in invites], session=session)

    def claimed(self, key: str, session: Session = None) -> bool:
        return self.reminders.find_one({"_id": key}, {"_id": 1}, session=session) is not None

    def claim(self, key: str, clinic_id: str, participant_id: str | None, now: datetime, session: Session) -> None:
        """A reminder or warning sent, once ever: a duplicate key means someone else sent it."""
        self.reminders.insert_one({"_id": key, "clinic_id": clinic_id, "participant_id": participant_id, "at": now},
                                  session=session)

    # ----- interpretation

    def insert_requests(self, requests: list[dict], session: Session) -> None:
        if requests:
            self.interpretation.insert_many(requests, session=session)

    def request(self, request_id: str, session: Session = None) -> dict:
        found = self.interpretation.find_one({"_id": request_id}, session=session)
        if found is None:
            raise NotFound("no such interpretation request")
        return found

    def requests_of(self, clinic_id: str, session: Session = None) -> list[dict]:
        return list(self.interpretation.find({"clinic_id": clinic_id}, session=session).sort("start", ASCENDING))

    def set_request(self, request_id: str, changes: dict, session: Session) -> None:
        self.interpretation.update_one({"_id": request_id}, {"$set": changes}, session=session)

    def open_requests_starting_between(self, after: datetime, until: datetime, confirmed: bool) -> list[dict]:
        match: dict = {"state": "open", "start": {"$gt": after, "$lte": until}}
        match["interpreter"] = {"$ne": None} if confirmed else None
        return list(self.interpretation.find(match))


class SpaceRecords:
    """Learning spaces."""

    # ----- spaces

    def space(self, space_id: str, session: Session = None) -> dict:
        found = self.spaces.find_one({"_id": space_id}, session=session)
        if found is None:
            raise NotFound("no such learning space")
        return found

    def insert_space(self, space: dict, session: Session = None) -> None:
        self.spaces.insert_one(space, session=session)

    def set_space(self, space_id: str, changes: dict, session: Session = None) -> None:
        self.spaces.update_one({"_id": space_id}, {"$set": changes}, session=session)

    def delete_space(self, space_id: str, session: Session = None) -> bool:
        return self.spaces.delete_one({"_id": space_id}, session=session).deleted_count == 1

    def spaces_by_source(self, uids: list[str], session: Session) -> dict[str, dict]:
        return {s["source_uid"]: s for s in self.spaces.find({"source_uid": {"$in": uids}}, session=session)}

    def write_spaces(self, inserts: list[dict], updates: list[tuple[str, dict]], session: Session) -> None:
        if inserts:
            self.spaces.insert_many(inserts, session=session)
        if updates:
            self.spaces.bulk_write([UpdateOne({"_id": sid}, {"$set": changes}) for sid, changes in updates],
                                   session=session)

    def spaces_matching(self, topic: str | None, language: str | None, kind: str | None, region: str | None,
                        limit: int = 500) -> list[dict]:
        match = {key: value for key, value in (("topics", topic), ("languages", language), ("kind", kind),
                                                ("region", region)) if value}
        return list(self.spaces.find(match).sort("title", ASCENDING).limit(limit))

    def spaces_with_start(self, topics: list[str] | None = None) -> list[dict]:
        match: dict = {"start": {"$ne": None}}
        if topics is not None:
            match["topics"] = {"$in": topics}
        return list(self.spaces.find(match))


class Store(ClinicRecords, RegistrationRecords, PeopleRecords, TeamRecords, SpaceRecords):
    """Every collection of the scheduler; each group of queries and writes is a base class above."""

    def __init__(self, db: Database):
        self.db = db
        self.clinics = db["clinics"]
        self.slots = db["slots"]
        self.registrations = db["registrations"]
        self.people = db["people"]
        self.erased = db["erased"]
        self.connections = db["connections"]
        self.topic_demand = db["topic_demand"]
        self.region_demand = db["region_demand"]
        self.known_topics = KnownTopics(db["topics"])
        self.invitations = db["invitations"]
        self.reminders = db["reminders"]
        self.feedback = db["feedback"]
        self.interpretation = db["interpretation"]
        self.spaces = db["spaces"]

    def ensure_indexes(self) -> None:
        AuditLog(self.db).ensure_indexes()  # staff actions taken here (shared.audit)
        self.registrations.create_index([("clinic_id", ASCENDING), ("participant_id", ASCENDING)], unique=True)
        self.registrations.create_index([("slot_id", ASCENDING), ("status", ASCENDING), ("seq", ASCENDING)])
        self.registrations.create_index([("participant_id", ASCENDING)])
        self.clinics.create_index([("first_start", ASCENDING)])
        self.slots.create_index([("clinic_id", ASCENDING)])  # seats left, on every clinic page and listing
        self.invitations.create_index([("participant_id", ASCENDING)])
        self.reminders.create_index([("participant_id", ASCENDING)])
        self.feedback.create_index([("clinic_id", ASCENDING), ("participant_id", ASCENDING)], unique=True)
        self.feedback.create_index([("at", DESCENDING), ("_id", DESCENDING)])
        self.interpretation.create_index([("clinic_id", ASCENDING)])
        self.interpretation.create_index([("start", ASCENDING)])
        self.spaces.create_index([("source_uid", ASCENDING)], unique=True, sparse=True)
        self.spaces.create_index([("topics", ASCENDING)])
        self.connections.create_index([("learners", ASCENDING)])
