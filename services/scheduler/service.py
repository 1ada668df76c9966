"""The scheduler's use cases: load -> decide with domain/ -> save the state and its events (outbox)
in one transaction.

`SchedulerService` gathers them by subject: clinics, seats, sessions (completion and feedback),
reminders, people (the registry read model), spaces, calendars and suggestions. The routes call
`service_layer().<subject>.<use case>`; the worker's handlers and jobs call the same objects.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Callable

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from shared.clock import iso, utcnow
from shared.config import Settings
from shared.mongo import in_transaction
from shared.outbox import Outbox
from shared.topics import unknown_topic_message

from services.scheduler import SERVICE
from services.scheduler.config import SchedulerConfig
from services.scheduler.domain import calendar, clinics, completion, events, invitations, people, reminders, seats
from services.scheduler.domain.errors import Invalid, NotFound, Refused
from services.scheduler.domain.slots import slot_problems
from services.scheduler.domain.suggest import suggest_slots
from services.scheduler.domain.views import clinic_view, completed_view, registration_row, registration_view
from services.scheduler.store import Store

Clock = Callable[[], datetime]
SEAT_ATTEMPTS = 20  # a registration that keeps losing the race for a counter decides again this often


def new_id() -> str:
    return uuid.uuid4().hex[:16]


class SeatRace(Exception):
    """The slot's counter changed between reading it and writing it: decide again."""


class Context:
    """What every use case needs: the store, the outbox, the clock, the settings."""

    def __init__(self, store: Store, settings: Settings, config: SchedulerConfig, clock: Clock | None = None):
        self.store = store
        self.settings = settings
        self.config = config
        self.clock = clock or utcnow
        self.outbox = Outbox(store.db, SERVICE)

    def now(self) -> datetime:
        return self.clock()

    def transaction(self, work: Callable[[ClientSession], object]):
        return in_transaction(self.store.db, work)

    def check_topics(self, codes, field: str = "topics") -> None:
        unknown = self.store.known_topics.unknown(codes)
        if unknown:
            raise Invalid(field, [unknown_topic_message(code) for code in unknown], "unknown topic codes")


class Clinics:
    """Scheduling, editing and cancelling clinics; invitations go out with them."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def get(self, clinic_id: str) -> dict:
        return self.store.clinic(clinic_id)

    def view(self, clinic_id: str) -> dict:
        clinic = self.store.clinic(clinic_id)
        return clinic_view(clinic, self.store.seat_counts(clinic_id))

    def listing(self, topic: str | None, language: str | None, kind: str | None, include_past: bool) -> list[dict]:
        """Upcoming scheduled clinics (or all of them), by first start."""
        after = None if include_past else self.ctx.now()
        return [clinic_view(c) for c in self.store.clinics_matching(topic, language, kind, after)]

    def schedule(self, data: dict) -> dict:
        self.ctx.check_topics(data["topics"])
        now = self.ctx.now()
        problems = slot_problems(data["slots"], now)
        if problems:
            raise Invalid("slots", {str(index): messages for index, messages in problems.items()}, "bad slots")
        clinic = clinics.new_clinic(data, now, new_id)

        def work(session):
            self.store.insert_clinic(clinic, clinics.seat_counters(clinic), session)
            self.ctx.outbox.add(session, "clinic-scheduled", events.clinic_data(clinic, "created"))
            self._invite_all(session, clinic)

        self.ctx.transaction(work)
        return clinic_view(clinic, self.store.seat_counts(clinic["_id"]))

    def _invite_all(self, session: ClientSession, clinic: dict) -> None:
        candidates = self.store.people_speaking(sorted(invitations.clinic_languages(clinic)), session)
        invites = invitations.invitations(clinic, candidates)
        if invites:
            self.store.insert_invitations(clinic["_id"], invites, self.ctx.now(), session)
            self.ctx.outbox.add_many(session, [("clinic-invited", events.invitation_data(clinic, pid, reason))
                                               for pid, reason in invites])

    def edit(self, clinic_id: str, patch: dict) -> dict:
        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            changes = clinics.edit(clinic, patch, self.ctx.now())
            clinic.update(changes)
            self.store.set_clinic(clinic_id, changes, session)
            self.ctx.outbox.add(session, "clinic-scheduled", events.clinic_data(clinic, "updated"))
            self._tell_registered(session, clinic, "clinic_updated")
            return clinic

        clinic = self.ctx.transaction(work)
        return clinic_view(clinic, self.store.seat_counts(clinic_id))

    def cancel(self, clinic_id: str) -> dict:
        now = self.ctx.now()

        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            changes = clinics.cancellation(clinic, now)
            clinic.update(changes)
            self.store.set_clinic(clinic_id, changes, session)
            self.ctx.outbox.add(session, "clinic-scheduled", events.clinic_data(clinic, "cancelled"))
            self._tell_registered(session, clinic, "clinic_cancelled")
            self.store.cancel_registrations(clinic_id, {"status": seats.CANCELLED, "cancelled_at": now,
                                                        "cancel_reason": "clinic_cancelled"}, session)
            self.store.reset_seats(clinic_id, session)
            return clinic

        return clinic_view(self.ctx.transaction(work))

    def _tell_registered(self, session: ClientSession, clinic: dict, reason: str) -> None:
        told = []
        for registration in self.store.clinic_registrations(clinic["_id"], seats.ACTIVE, session):
            position = self._position(registration, session)
            if reason == "clinic_cancelled":
                registration = {**registration, "status": seats.CANCELLED}
            told.append(("clinic-registration-changed", events.registration_data(clinic, registration, reason,
                                                                                  position)))
        self.ctx.outbox.add_many(session, told)

    def _position(self, registration: dict, session: ClientSession | None = None) -> int | None:
        return position_of(self.store, registration, session)


def position_of(store: Store, registration: dict, session: ClientSession | None = None) -> int | None:
    """A waiting registration's place in line (None for anyone not waiting)."""
    if registration["status"] != seats.WAITLISTED:
        return None
    return seats.waitlist_position(store.waiting_ahead(registration["slot_id"], registration["seq"], session),
                                   registration["seq"])


class Seats:
    """Taking and giving back seats; the waitlist moves up."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def register(self, clinic_id: str, participant_id: str, slot_id: str, interpretation: str | None) -> dict:
        self.store.clinic(clinic_id)
        if self.store.is_withdrawn(participant_id):
            raise Refused("this participant has withdrawn from the program", 409)
        for _ in range(SEAT_ATTEMPTS):
            try:
                return self.ctx.transaction(lambda session: self._take(session, clinic_id, participant_id, slot_id,
                                                                       interpretation))
            except SeatRace:
                continue
        raise Refused("too many people are registering for this slot at once; try again", 409)

    def _take(self, session: ClientSession, clinic_id: str, participant_id: str, slot_id: str,
              interpretation: str | None) -> dict:
        now = self.ctx.now()
        clinic = self.store.clinic(clinic_id, session)
        slot = seats.find_slot(clinic, slot_id)
        seats.check_open(clinic, slot, now)
        seats.check_interpretation(clinic, interpretation)
        seats.check_not_registered(self.store.registration(clinic_id, participant_id, session))
        counter = self.store.seat_counter(slot_id, session)
        status = seats.allocate(counter["seats"], counter["confirmed"])
        if not self.store.take_place(counter, status == seats.CONFIRMED, session):
            raise SeatRace()
        registration = {"_id": f"{clinic_id}|{participant_id}", "clinic_id": clinic_id, "slot_id": slot_id,
                        "participant_id": participant_id, "status": status, "seq": counter["arrivals"] + 1,
                        "interpretation": interpretation, "registered_at": now}
        self.store.save_registration(registration, session)
        position = position_of(self.store, registration, session)
        self.ctx.outbox.add(session, "clinic-registration-changed",
                            events.registration_data(clinic, registration, "registered", position))
        return {"status": status, "position": position, "slot": slot_id, "clinic": clinic_id,
                "participant": participant_id, "interpretation": interpretation}

    def give_back(self, clinic_id: str, participant_id: str, reason: str = "cancelled_by_participant") -> dict:
        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            registration = self.store.registration(clinic_id, participant_id, session)
            seats.check_can_give_back(clinic, registration)
            return self.free(session, clinic, registration, reason, tell=True)

        return {"clinic": clinic_id, "participant": participant_id, **self.ctx.transaction(work)}

    def free(self, session: ClientSession, clinic: dict, registration: dict, reason: str, tell: bool) -> dict:
        """Cancel a registration; a confirmed seat freed before the slot starts goes to the first waiting."""
        now = self.ctx.now()
        self.store.set_registration(registration["_id"], {"status": seats.CANCELLED, "cancelled_at": now,
                                                          "cancel_reason": reason}, session)
        slot = seats.find_slot(clinic, registration["slot_id"])
        started = now >= slot["start"]
        waitlist = [] if registration["status"] != seats.CONFIRMED or started else \
            self.store.first_waiting(slot["slot_id"], 1, session)
        outcome = seats.after_cancellation(registration["status"], waitlist, slot_started=started)
        told = []
        if tell:
            told.append(("clinic-registration-changed", events.registration_data(
                clinic, {**registration, "status": seats.CANCELLED}, reason)))
        if outcome.promoted is not None:
            promoted = {**outcome.promoted, "status": seats.CONFIRMED}
            self.store.set_registration(promoted["_id"], {"status": seats.CONFIRMED, "promoted_at": now}, session)
            told.append(("clinic-registration-changed", events.registration_data(clinic, promoted, "promoted")))
        elif registration["status"] == seats.CONFIRMED:
            self.store.free_seat(slot["slot_id"], session)
        self.ctx.outbox.add_many(session, told)
        return {"status": seats.CANCELLED, "promoted": outcome.promoted["participant_id"] if outcome.promoted else None}

    def registration(self, clinic_id: str, participant_id: str) -> dict:
        clinic = self.store.clinic(clinic_id)
        registration = self.store.registration(clinic_id, participant_id)
        if registration is None:
            raise NotFound("this person is not registered for this clinic")
        return registration_view(clinic, registration, position_of(self.store, registration))

    def everyone(self, clinic_id: str) -> list[dict]:
        self.store.clinic(clinic_id)
        return [registration_row(r, position_of(self.store, r)) for r in self.store.clinic_registrations(clinic_id)]


class Sessions:
    """Completing a clinic (attendance, recording) and the feedback of those who attended."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def complete(self, clinic_id: str, data: dict) -> dict:
        now = self.ctx.now()

        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            changes = completion.completion(clinic, data, self.store.confirmed_ids(clinic_id, session), now)
            self.store.set_clinic(clinic_id, changes, session)
            clinic.update(changes)
            self.ctx.outbox.add(session, "session-completed", events.completed_data(clinic, now))
            return clinic

        return completed_view(self.ctx.transaction(work))

    def give_feedback(self, clinic_id: str, data: dict) -> dict:
        pid = data["participant"]

        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            completion.check_feedback(clinic, pid, self.store.feedback_given(clinic_id, pid, session))
            record = {"clinic_id": clinic_id, "participant_id": pid, "useful": data["useful"],
                      "rating": data["rating"], "comment": data["comment"], "at": self.ctx.now()}
            self.store.insert_feedback(record, session)
            self.ctx.outbox.add(session, "feedback-submitted", events.feedback_data(record))
            return record

        try:
            record = self.ctx.transaction(work)
        except DuplicateKeyError as exc:
            raise Refused("feedback for this clinic was already given", 409) from exc
        return {"clinic": clinic_id, "participant": pid, "useful": record["useful"], "rating": record["rating"]}


class Reminders:
    """The worker's reminder job: each due reminder claimed and emitted once."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def send(self) -> int:
        """Claim and emit each due reminder once: the claim (slot|person|lead) and the outbox event
        share a transaction, so two workers or a restart never send one twice."""
        now = self.ctx.now()
        sent = 0
        for clinic in self.store.clinics_starting_between(now, now + reminders.HORIZON):
            for slot in clinic["slots"]:
                lead = reminders.due_lead(slot["start"], now)
                if lead is None:
                    continue
                for registration in self.store.confirmed_in_slot(slot["slot_id"]):
                    sent += self._remind(clinic, slot, registration["participant_id"], lead)
        return sent

    def _remind(self, clinic: dict, slot: dict, participant_id: str, lead: str) -> int:
        key = reminders.claim_key(slot["slot_id"], participant_id, lead)
        if self.store.reminder_claimed(key):
            return 0

        def work(session):
            if self.store.reminder_claimed(key, session):
                return 0
            self.store.claim_reminder(key, clinic["_id"], participant_id, self.ctx.now(), session)
            self.ctx.outbox.add(session, "clinic-reminder", events.reminder_data(clinic, slot, participant_id, lead))
            return 1

        try:
            return self.ctx.transaction(work)
        except DuplicateKeyError:
            return 0  # another worker claimed it first


class People:
    """The read model of registry events, and the invitations a newcomer gets."""

    def __init__(self, ctx: Context, seats_: Seats):
        self.ctx = ctx
        self.store = ctx.store
        self.seats = seats_

    def _held(self, session: ClientSession, participant_id: str, revision: int) -> tuple[dict | None, bool]:
        held = self.store.person(participant_id, session)
        return held, people.is_stale(held, revision)

    def on_participant(self, session: ClientSession, data: dict) -> None:
        _, stale = self._held(session, data["participant_id"], data["revision"])
        if stale:
            return
        person = people.from_participant(data)
        self.store.save_person(person, session)
        self._invite(session, person)

    def on_skill(self, session: ClientSession, data: dict) -> None:
        self.store.known_topics.learn(session, data["topic"])
        held, stale = self._held(session, data["participant_id"], data["revision"])
        if stale:
            return
        person = people.with_skill(held, data)
        self.store.save_person(person, session)
        self._invite(session, person)

    def on_skill_withdrawn(self, session: ClientSession, data: dict) -> None:
        held, stale = self._held(session, data["participant_id"], data["revision"])
        if stale or held is None:
            return
        changes = people.without_skill(held, data)
        if changes is not None:
            self.store.set_person(held["_id"], changes, session)

    def on_withdrawn(self, session: ClientSession, data: dict) -> None:
        """Erasure: the person's profile goes (a tombstone keeps later stale events out), active seats
        are freed (the waitlist moves up), and their history is kept only under an anonymous id."""
        pid = data["participant_id"]
        self.store.save_person(people.tombstone(pid, data["revision"]), session)
        for registration in self.store.active_registrations_of(pid, session):
            clinic = self.store.clinic(registration["clinic_id"], session)
            self.seats.free(session, clinic, registration, "cancelled_by_participant", tell=False)
        alias = f"erased-{new_id()}"
        self.store.rename_participant(pid, alias, session)
        for field in ("attendees", "confirmed_attendees", "sharers"):
            self.store.replace_in_clinics(field, pid, alias, session)

    def _invite(self, session: ClientSession, person: dict) -> None:
        """A person who registers (or gains an interest) after a clinic was scheduled is invited too,
        once."""
        if person.get("withdrawn"):
            return
        now = self.ctx.now()
        for clinic in self.store.clinics_not_yet_started(now, session):
            reason = invitations.invitation_reason(clinic, person)
            if not reason or self.store.invited(clinic["_id"], person["_id"], session):
                continue
            self.store.insert_invitations(clinic["_id"], [(person["_id"], reason)], now, session)
            self.ctx.outbox.add(session, "clinic-invited", events.invitation_data(clinic, person["_id"], reason))


class Spaces:
    """The movement's other learning spaces."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def add(self, data: dict) -> dict:
        self.ctx.check_topics(data["topics"])
        space = {"_id": new_id(), **data, "created_at": self.ctx.now()}
        self.store.insert_space(space)
        return space

    def listing(self, topic: str | None, language: str | None, kind: str | None, region: str | None) -> list[dict]:
        return self.store.spaces_matching(topic, language, kind, region)


class Calendars:
    """iCalendar feeds: one clinic, the public calendar, a person's own clinics."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    @property
    def base_url(self) -> str:
        return self.ctx.settings.service_url(SERVICE)

    def clinic(self, clinic_id: str, tz) -> tuple[str, bytes]:
        clinic = self.store.clinic(clinic_id)
        found = calendar.clinic_events(clinic, self.ctx.now(), tz=tz, base_url=self.base_url)
        return clinic["title"], calendar.render(calendar.new_calendar(clinic["title"]), found, tz)

    def public(self, topic: str | None, language: str | None, tz) -> bytes:
        now = self.ctx.now()
        found = []
        for clinic in self.store.upcoming_clinics(now):
            if calendar.clinic_listed(clinic, topic, language):
                found += calendar.clinic_events(clinic, now, tz=tz, base_url=self.base_url)
        for space in self.store.spaces_with_start():
            if calendar.space_listed(space, topic, language, now):
                found.append(calendar.space_event({**space, "rrule": space.get("recurrence")}, now, tz))
        return calendar.render(calendar.new_calendar("Let's Connect learning calendar"), found, tz)

    def own(self, participant_id: str, tz) -> bytes:
        now = self.ctx.now()
        mine = {r["clinic_id"]: r["slot_id"] for r in self.store.confirmed_registrations_of(participant_id)}
        found = []
        for clinic in self.store.clinics_by_ids(list(mine), exclude_status=clinics.CANCELLED):
            found += calendar.clinic_events(clinic, now, tz=tz, meeting_url=clinic.get("meeting_url"),
                                            slot_ids={mine[clinic["_id"]]}, base_url=self.base_url)
        return calendar.render(calendar.new_calendar("My Let's Connect clinics"), found, tz)


class Suggestions:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def slots(self, topic: str, day, minutes: int) -> dict:
        """The two start times (UTC) that suit the most people wanting to learn the topic, with counts."""
        self.ctx.check_topics([topic], "topic")
        day = day or (self.ctx.now() + timedelta(days=14)).date()
        learners = self.store.learners_of(topic)
        chosen = suggest_slots(learners, day, minutes)
        reached = frozenset().union(*(s.people for s in chosen)) if chosen else frozenset()
        return {"topic": topic, "date": day.isoformat(), "minutes": minutes, "interested": len(learners),
                "reached": len(reached), "slots": [{"start": iso(s.start), "minutes": minutes, "count": s.count}
                                                   for s in chosen]}


class SchedulerService:
    """Every use case of the scheduler, by subject."""

    def __init__(self, store: Store, settings: Settings, config: SchedulerConfig | None = None,
                 clock: Clock | None = None):
        self.ctx = Context(store, settings, config or SchedulerConfig(), clock)
        self.store = store
        self.clinics = Clinics(self.ctx)
        self.seats = Seats(self.ctx)
        self.sessions = Sessions(self.ctx)
        self.reminders = Reminders(self.ctx)
        self.people = People(self.ctx, self.seats)
        self.spaces = Spaces(self.ctx)
        self.calendars = Calendars(self.ctx)
        self.suggestions = Suggestions(self.ctx)

    def now(self) -> datetime:
        return self.ctx.now()
