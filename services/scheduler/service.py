"""The scheduler's use cases: load -> decide with domain/ -> save the state and its events (outbox)
in one transaction.

`SchedulerService` gathers them by subject: clinics (and their team of presenters and
interpreters), seats, sessions (completion, recording), feedback, interpretation, reminders, people
(the registry and matcher read model), spaces, calendars and suggestions. The routes call
`service_layer().<subject>.<use case>`; the worker's handlers and jobs call the same objects.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Callable

from pymongo.client_session import ClientSession
from pymongo.errors import DuplicateKeyError

from shared import audit
from shared.audit import AuditLog
from shared.clock import iso, utcnow
from shared.config import Settings
from shared.cursors import CursorInvalid, decode_cursor, encode_cursor
from shared.mongo import in_transaction
from shared.outbox import Outbox
from shared.pseudonyms import keyed_hash, keyed_hashes, translator_for, translators_of
from shared.taxonomy import base_topics
from shared.tokens import issue_link_token
from shared.topics import unknown_topic_message

from services.scheduler import SERVICE
from services.scheduler.config import SchedulerConfig
from services.scheduler.domain import (
    calendar, clinics, completion, demand, events, feedback, funding, interpretation, invitations, people, presenters,
    recording, reminders, seats, spaces, topic_ranking,
)
from services.scheduler.domain.errors import Invalid, NotFound, Refused
from services.scheduler.domain.slots import slot_problems
from services.scheduler.domain.suggest import best_starts, reached
from services.scheduler.domain.views import (
    SPACE_FIELDS, clinic_view, completed_view, presenter_registration_view, registration_row, registration_view,
    space_view,
)
from services.scheduler.store import Store

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
SEAT_ATTEMPTS = 20  # a registration that keeps losing the race for a counter decides again this often


def new_id() -> str:
    return uuid.uuid4().hex[:16]


class SeatRace(Exception):
    """The slot's counter changed between reading it and writing it (not expected while `arrive` holds
    it; kept as a guard): decide again."""


class Context:
    """What every use case needs: the store, the outbox, the clock, the settings."""

    def __init__(self, store: Store, settings: Settings, config: SchedulerConfig, clock: Clock | None = None):
        self.store = store
        self.settings = settings
        self.config = config
        self.clock = clock or utcnow
        self.outbox = Outbox(store.db, SERVICE)
        self.audit = AuditLog(store.db)

    def now(self) -> datetime:
        return self.clock()

    def audited(self, session: ClientSession, actor: dict | None, action: str, clinic_id: str,
                before: dict | None = None, after: dict | None = None, target: str = "clinic") -> None:
        """The audit record of a staff action on a clinic (or a learning space, `target`), in the
        action's transaction (shared.audit)."""
        if actor is not None:
            self.audit.insert(audit.entry(actor, action, target, clinic_id, before, after, at=self.now()), session)

    def transaction(self, work: Callable[[ClientSession], object]):
        return in_transaction(self.store.db, work)

    def check_topics(self, codes, field: str = "topics") -> None:
        unknown = self.store.known_topics.unknown(codes)
        if unknown:
            raise Invalid(field, [unknown_topic_message(code) for code in unknown], "unknown topic codes")

    def erased(self, participant_id: str, session: ClientSession | None = None) -> bool:
        return bool(self.erased_among([participant_id], session))

    def erased_among(self, participant_ids: list[str], session: ClientSession | None = None) -> set[str]:
        """Which of these people were erased (one read, whatever their number)."""
        hashes = {key: pid for pid in participant_ids for key in keyed_hashes(self.settings, "erased", pid)}
        return {hashes[key] for key in self.store.erased_among(list(hashes), session)}

    def interpretation_summary(self, clinic_id: str) -> dict:
        return interpretation.summary(self.store.requests_of(clinic_id), self.now(), self.config.warn_before)


def position_of(store: Store, registration: dict, session: ClientSession | None = None) -> int | None:
    """A waiting registration's place in line (None for anyone not waiting)."""
    if registration["status"] != seats.WAITLISTED:
        return None
    return seats.waitlist_position(store.waiting_ahead(registration["slot_id"], registration["seq"], session),
                                   registration["seq"])


class Team:
    """A clinic's presenters and interpreters: told when it is scheduled, changed or cancelled."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def announce(self, session: ClientSession, clinic: dict) -> None:
        """Scheduled: each presenter hears of it; the translators of each language are asked."""
        told = [("presenter-scheduled", events.presenter_data(clinic, pid, "created")) for pid in clinic["sharers"]]
        asked = {language: len(translators_of(self.ctx.settings, language)) for language in clinic["interpretation"]}
        requests = interpretation.new_requests(clinic, asked, self.ctx.now(), new_id)
        self.store.insert_requests(requests, session)
        told += [("translation-requested", events.translation_request_data(r)) for r in requests]
        self.ctx.outbox.add_many(session, told)

    def changed(self, session: ClientSession, before: dict, clinic: dict) -> None:
        told = [("presenter-scheduled", events.presenter_data(clinic, pid, change))
                for pid, change in presenters.told_on_change(before["sharers"], clinic["sharers"])]
        slots = {s["slot_id"]: s for s in clinic["slots"]}
        for request in self.store.requests_of(clinic["_id"], session):
            moved = interpretation.moved(request, slots[request["slot_id"]])
            if moved:
                self.store.set_request(request["_id"], moved, session)
                request.update(moved)
            if request["interpreter"] and request["state"] == "open":
                told.append(("interpreter-scheduled", events.interpreter_data(request, clinic, request["interpreter"],
                                                                              "updated")))
        self.ctx.outbox.add_many(session, told)

    def cancelled(self, session: ClientSession, clinic: dict) -> None:
        told = [("presenter-scheduled", events.presenter_data(clinic, pid, "cancelled")) for pid in clinic["sharers"]]
        for request in self.store.requests_of(clinic["_id"], session):
            self.store.set_request(request["_id"], {"state": interpretation.CANCELLED}, session)
            if request["interpreter"]:
                told.append(("interpreter-scheduled", events.interpreter_data(request, clinic, request["interpreter"],
                                                                              "cancelled")))
        self.ctx.outbox.add_many(session, told)


def _without_people(change: tuple[dict, dict]) -> tuple[dict, dict]:
    """An edit's before/after for the audit log: presenters as a count, never their ids (the log
    outlives a person's erasure)."""
    return tuple({k: (len(v) if k == "sharers" and isinstance(v, list) else v) for k, v in side.items()}
                 for side in change)


class Clinics:
    """Scheduling (or proposing), approving, editing and cancelling clinics."""

    def __init__(self, ctx: Context, team: Team, seats_: "Seats"):
        self.ctx = ctx
        self.store = ctx.store
        self.team = team
        self.seats = seats_

    def view(self, clinic_id: str, staff: bool = False, runs_program: bool = False) -> dict:
        clinic = self.store.clinic(clinic_id)
        if clinic["status"] == clinics.PROPOSED and not staff:
            raise NotFound("no such clinic")
        view = clinic_view(clinic, self.store.seat_counts(clinic_id), self.ctx.interpretation_summary(clinic_id))
        if runs_program and clinic["status"] == clinics.COMPLETED:
            return {**completed_view(clinic), **view}
        return view

    def listing(self, topic: str | None, language: str | None, kind: str | None, include_past: bool) -> list[dict]:
        """Upcoming scheduled clinics (or every public one), by first start, with each slot's seats left."""
        after = None if include_past else self.ctx.now()
        listed = list(self.store.clinics_matching(topic, language, kind, after))
        counts = self.store.seat_counts_of([c["_id"] for c in listed])
        return [clinic_view(c, counts.get(c["_id"], {})) for c in listed]

    def proposals(self) -> list[dict]:
        return [{**clinic_view(c), "proposed_by": c.get("proposed_by")} for c in self.store.proposals()]

    def schedule(self, data: dict, proposed_by: str | None = None, actor: dict | None = None) -> dict:
        """A clinic, announced at once; or, from an ambassador (`proposed_by`), a proposal.
        `actor`: the staff member (shared.audit.actor_of), audited."""
        self.ctx.check_topics(data["topics"])
        now = self.ctx.now()
        self._check_slots(data["slots"], now)
        clinic = clinics.new_clinic(data, now, new_id, proposed_by)

        def work(session):
            self.store.insert_clinic(clinic, clinics.seat_counters(clinic), session)
            if clinic["status"] == clinics.SCHEDULED:
                self._announce(session, clinic)
            self.ctx.audited(session, actor, "clinic.propose" if proposed_by else "clinic.create", clinic["_id"],
                             after={"title": clinic["title"], "status": clinic["status"],
                                    "slots": [iso(slot["start"]) for slot in clinic["slots"]]})

        self.ctx.transaction(work)
        return clinic_view(clinic, self.store.seat_counts(clinic["_id"]), self.ctx.interpretation_summary(clinic["_id"]))

    @staticmethod
    def _check_slots(slots: list[dict], now: datetime) -> None:
        problems = slot_problems(slots, now)
        if problems:
            raise Invalid("slots", {str(index): messages for index, messages in problems.items()}, "bad slots")

    def approve(self, clinic_id: str, actor: dict | None = None) -> dict:
        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            changes = clinics.approval(clinic, self.ctx.now())
            self._check_slots(clinic["slots"], self.ctx.now())
            before = {"status": clinic["status"]}
            clinic.update(changes)
            self.store.set_clinic(clinic_id, changes, session)
            self._announce(session, clinic)
            self.ctx.audited(session, actor, "clinic.approve", clinic_id, before, {"status": clinic["status"]})

        self.ctx.transaction(work)
        return self.view(clinic_id)

    def _announce(self, session: ClientSession, clinic: dict) -> None:
        self.ctx.outbox.add(session, "clinic-scheduled", events.clinic_data(clinic, "created"))
        candidates = self.store.people_speaking(sorted(invitations.clinic_languages(clinic)), session)
        invites = invitations.invitations(clinic, candidates)
        if invites:
            self.store.insert_invitations(clinic["_id"], invites, self.ctx.now(), session)
            self.ctx.outbox.add_many(session, [("clinic-invited", events.invitation_data(clinic, pid, reason))
                                               for pid, reason in invites])
        self.team.announce(session, clinic)

    def edit(self, clinic_id: str, patch: dict, actor: dict | None = None) -> dict:
        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            before = dict(clinic)
            changes = clinics.edit(clinic, patch, self.ctx.now())
            clinic.update(changes)
            self.store.set_clinic(clinic_id, changes, session)
            self.ctx.audited(session, actor, "clinic.update", clinic_id, *_without_people(
                audit.changes(before, clinic, [k for k in changes if k != "updated_at"])))
            if clinic["status"] != clinics.SCHEDULED:
                return
            self.ctx.outbox.add(session, "clinic-scheduled", events.clinic_data(clinic, "updated"))
            for pid in clinic["sharers"]:  # a new presenter gives their seat back: their place is kept
                held = self.store.registration(clinic_id, pid, session)
                if held and held["status"] in seats.ACTIVE and pid not in before["sharers"]:
                    self.seats.free(session, clinic, held, "cancelled_by_participant", tell=False)
            self._tell_registered(session, clinic, "clinic_updated")
            self.team.changed(session, before, clinic)

        self.ctx.transaction(work)
        return self.view(clinic_id, staff=True)

    def cancel(self, clinic_id: str, actor: dict | None = None) -> dict:
        now = self.ctx.now()

        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            was = clinic["status"]
            changes = clinics.cancellation(clinic, now)
            clinic.update(changes)
            self.store.set_clinic(clinic_id, changes, session)
            self.ctx.audited(session, actor, "clinic.cancel", clinic_id, {"status": was}, {"status": clinic["status"]})
            if was == clinics.PROPOSED:
                return clinic  # a proposal was never announced: nobody to tell
            self.ctx.outbox.add(session, "clinic-scheduled", events.clinic_data(clinic, "cancelled"))
            self._tell_registered(session, clinic, "clinic_cancelled")
            self.store.cancel_registrations(clinic_id, {"status": seats.CANCELLED, "cancelled_at": now,
                                                        "cancel_reason": "clinic_cancelled"}, session)
            self.store.reset_seats(clinic_id, session)
            self.team.cancelled(session, clinic)
            return clinic

        return clinic_view(self.ctx.transaction(work))

    def _tell_registered(self, session: ClientSession, clinic: dict, reason: str) -> None:
        told = []
        for registration in self.store.clinic_registrations(clinic["_id"], seats.ACTIVE, session):
            position = position_of(self.store, registration, session)
            if reason == "clinic_cancelled":
                registration = {**registration, "status": seats.CANCELLED}
            told.append(("clinic-registration-changed", events.registration_data(clinic, registration, reason,
                                                                                  position)))
        self.ctx.outbox.add_many(session, told)

    def presenter(self, clinic_id: str, participant_id: str) -> dict:
        """A presenter's own view of their clinic (their link token, session, or staff)."""
        clinic = self.store.clinic(clinic_id)
        presenters.check_presenter(clinic, participant_id)
        return presenters.presenter_view(clinic, participant_id, self.store.seat_counts(clinic_id),
                                         self.ctx.interpretation_summary(clinic_id))


class Seats:
    """Taking and giving back seats; the waitlist moves up."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def register(self, clinic_id: str, participant_id: str, slot_id: str, interpretation_: str | None) -> dict:
        if self.ctx.erased(participant_id):
            raise Refused("this participant has withdrawn from the program", 409)
        for _ in range(SEAT_ATTEMPTS):
            try:
                return self.ctx.transaction(lambda session: self._take(session, clinic_id, participant_id, slot_id,
                                                                       interpretation_))
            except SeatRace:
                continue
            except DuplicateKeyError as exc:  # the same person's other request got there first
                raise Refused("already registered for this clinic", 409) from exc
        raise Refused("too many people are registering for this slot at once; try again", 409)

    def _take(self, session: ClientSession, clinic_id: str, participant_id: str, slot_id: str,
              interpretation_: str | None) -> dict:
        now = self.ctx.now()
        clinic = self.store.clinic(clinic_id, session)
        if clinic["status"] == clinics.PROPOSED:
            raise NotFound("no such clinic")
        presenters.check_not_presenting(clinic, participant_id)
        slot = seats.find_slot(clinic, slot_id)
        seats.check_open(clinic, slot, now)
        seats.check_interpretation(clinic, interpretation_)
        existing = self.store.registration(clinic_id, participant_id, session)
        seats.check_not_registered(existing)
        counter = self.store.arrive(slot_id, session)
        status = seats.allocate(counter["seats"], counter["confirmed"])
        if status == seats.CONFIRMED and not self.store.take_seat(counter, session):
            raise SeatRace()
        registration = {"_id": existing["_id"] if existing else new_id(), "clinic_id": clinic_id, "slot_id": slot_id,
                        "participant_id": participant_id, "status": status, "seq": counter["arrivals"],
                        "interpretation": interpretation_, "registered_at": now}
        self.store.save_registration(registration, session)
        position = position_of(self.store, registration, session)
        self.ctx.outbox.add(session, "clinic-registration-changed",
                            events.registration_data(clinic, registration, "registered", position))
        return {"status": status, "position": position, "slot": slot_id, "clinic": clinic_id,
                "participant": participant_id, "interpretation": interpretation_}

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
            if participant_id in clinic["sharers"]:
                return presenter_registration_view(clinic, participant_id)
            raise NotFound("this person is not registered for this clinic")
        return registration_view(clinic, registration, position_of(self.store, registration))

    def of_participant(self, participant_id: str) -> list[dict]:
        """Every seat and waitlist place the person holds, with its clinic's title and slot time."""
        held = self.store.active_registrations_of(participant_id, None)
        found = {c["_id"]: c for c in self.store.clinics_by_ids(sorted({r["clinic_id"] for r in held}))}
        mine = []
        for registration in held:
            clinic = found.get(registration["clinic_id"])
            if clinic is None:
                continue
            slot = next((s for s in clinic["slots"] if s["slot_id"] == registration["slot_id"]), None)
            mine.append({**registration_view(clinic, registration, position_of(self.store, registration)),
                         "title": clinic["title"], "clinic_status": clinic["status"],
                         "start": iso(slot["start"]) if slot else None, "minutes": slot["minutes"] if slot else None})
        return sorted(mine, key=lambda item: item["start"] or "")

    def everyone(self, clinic_id: str) -> list[dict]:
        self.store.clinic(clinic_id)
        return [registration_row(r, position_of(self.store, r)) for r in self.store.clinic_registrations(clinic_id)]


class Sessions:
    """Completing a clinic (attendance) and what may happen to its recording."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def complete(self, clinic_id: str, data: dict, actor: dict | None = None) -> dict:
        """Attendance (and the recording); `actor`: the staff member, audited."""
        now = self.ctx.now()

        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            attendees = list(dict.fromkeys(data["attendees"]))
            changes = completion.completion(clinic, data, self.store.confirmed_ids(clinic_id, session),
                                            self.store.consents(attendees, session), now)
            self.store.set_clinic(clinic_id, changes, session)
            clinic.update(changes)
            self.ctx.outbox.add(session, "session-completed", events.completed_data(clinic, now))
            self.ctx.audited(session, actor, "clinic.attendance", clinic_id,
                             after={"attendees": len(clinic.get("attendees", [])), "status": clinic.get("status")})
            return clinic

        return completed_view(self.ctx.transaction(work))

    def confirm_recording(self, clinic_id: str, not_recorded: list[str], staff: str,
                          actor: dict | None = None) -> dict:
        """Staff confirm that the attendees without consent were not recorded: the recording may be
        published, and the event says on which basis and who confirmed."""
        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            cleared = recording.confirm(clinic.get("recording"), not_recorded, staff, self.ctx.now())
            self.store.set_clinic(clinic_id, {"recording": cleared}, session)
            clinic["recording"] = cleared
            self.ctx.outbox.add(session, "clinic-recording-cleared", events.recording_cleared_data(clinic))
            self.ctx.audited(session, actor, "clinic.recording-confirm", clinic_id,
                             after={"not_recorded": len(not_recorded)})
            return clinic

        return completed_view(self.ctx.transaction(work))


class Feedback:
    """Feedback from those who attended, and reading it (staff)."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def give(self, clinic_id: str, data: dict) -> dict:
        pid = data["participant"]

        def work(session):
            clinic = self.store.clinic(clinic_id, session)
            completion.check_feedback(clinic, pid, self.store.feedback_given(clinic_id, pid, session))
            record = {"_id": new_id(), "clinic_id": clinic_id, "participant_id": pid, "useful": data["useful"],
                      "rating": data["rating"], "comment": data["comment"],
                      "what_was_useful": data.get("what_was_useful", ""),
                      "what_to_improve": data.get("what_to_improve", ""), "topics": clinic["topics"],
                      "at": self.ctx.now()}
            self.store.insert_feedback(record, session)
            self.ctx.outbox.add(session, "feedback-submitted", events.feedback_data(record))
            return record

        try:
            record = self.ctx.transaction(work)
        except DuplicateKeyError as exc:
            raise Refused("feedback for this clinic was already given", 409) from exc
        return {"clinic": clinic_id, "participant": pid, "useful": record["useful"], "rating": record["rating"]}

    def of_clinic(self, clinic_id: str) -> dict:
        clinic = self.store.clinic(clinic_id)
        records = self.store.feedback_of(clinic_id)
        return {"clinic": clinic_id, "title": clinic["title"], "attendees": len(clinic.get("attendees", [])),
                **feedback.aggregate(records), "items": [feedback.comment_view(r) for r in records]}

    def across(self, topic: str | None, since: datetime | None, cursor: str | None, limit: int) -> dict:
        """Every clinic's feedback (on a topic, since a time): the summary, per topic, and the answers
        newest first, a page at a time."""
        records = self.store.feedback_where(topic, since)
        before = None
        if cursor:
            try:
                at, key = decode_cursor(cursor)
                before = (datetime.fromisoformat(at.replace("Z", "+00:00")), str(key))
            except (CursorInvalid, ValueError, TypeError) as exc:
                raise Invalid("cursor", ["not a cursor from a previous page"]) from exc
        page = [r for r in records if before is None or (r["at"], r["_id"]) < before][:limit + 1]
        following = encode_cursor([iso(page[limit - 1]["at"]), page[limit - 1]["_id"]]) if len(page) > limit else None
        topics_of = {r["clinic_id"]: r.get("topics", []) for r in records}
        return {"topic": topic, "since": iso(since) if since else None, "summary": feedback.aggregate(records),
                "by_topic": feedback.by_topic(records, topics_of),
                "items": [feedback.comment_view(r) for r in page[:limit]], "next": following}

    @staticmethod
    def questions() -> dict:
        return {"rating": "How would you rate this clinic, from 1 to 5?", "useful": "Was it useful to you?",
                "follow_up": list(feedback.FOLLOW_UP)}


class Interpretation:
    """Interpreters answer through their link; staff see every language's state."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def for_staff(self, clinic_id: str) -> dict:
        self.store.clinic(clinic_id)
        now, warn = self.ctx.now(), self.ctx.config.warn_before
        requests = self.store.requests_of(clinic_id)
        return {"clinic": clinic_id, "languages": interpretation.summary(requests, now, warn),
                "requests": [{"request": r["_id"], "slot": r["slot_id"], "language": r["language"],
                              "start": iso(r["start"]), "status": interpretation.status(r, now, warn),
                              "asked": r["asked"], "declined": interpretation.declined(r),
                              "confirmed": bool(r["interpreter"])} for r in requests]}

    def _translator(self, request: dict, interpreter: str | None) -> None:
        if interpreter is not None and translator_for(self.ctx.settings, request["language"], interpreter) is None:
            raise Refused(f"this link is not (or no longer) for a translator of {request['language']}", 403)

    def view(self, request_id: str, interpreter: str | None) -> dict:
        """The interpreter's view (or staff's, with `interpreter` None)."""
        request = self.store.request(request_id)
        self._translator(request, interpreter)
        clinic = self.store.clinic(request["clinic_id"])
        return interpretation.interpreter_view(request, clinic, interpreter or "", self.ctx.now(),
                                               self.ctx.config.warn_before)

    def respond(self, request_id: str, interpreter: str, response: str) -> dict:
        def work(session):
            request = self.store.request(request_id, session)
            self._translator(request, interpreter)
            clinic = self.store.clinic(request["clinic_id"], session)
            changes, change = interpretation.respond(request, interpreter, response, self.ctx.now())
            if changes:
                self.store.set_request(request_id, changes, session)
                request.update(changes)
            if change:
                self.ctx.outbox.add(session, "interpreter-scheduled",
                                    events.interpreter_data(request, clinic, interpreter, change))

        self.ctx.transaction(work)
        return self.view(request_id, interpreter)


class Reminders:
    """The worker's jobs: reminders to attendees, presenters and interpreters, and the warnings when a
    language still has no interpreter; each claimed and emitted once."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def send(self) -> int:
        """Claim and emit each due reminder once: the claim and the outbox event share a transaction,
        so two workers or a restart never send one twice."""
        now = self.ctx.now()
        sent = 0
        for clinic in self.store.clinics_starting_between(now, now + reminders.HORIZON):
            for slot in clinic["slots"]:
                lead = reminders.due_lead(slot["start"], now)
                if lead is None:
                    continue
                for registration in self.store.confirmed_in_slot(slot["slot_id"]):
                    pid = registration["participant_id"]
                    sent += self._once(reminders.claim_key(slot["slot_id"], pid, lead), clinic["_id"], pid,
                                       [("clinic-reminder", events.reminder_data(clinic, slot, pid, lead))])
                for pid in clinic["sharers"]:
                    sent += self._once(reminders.claim_key(slot["slot_id"], f"presenter:{pid}", lead), clinic["_id"],
                                       pid, [("presenter-reminder", events.reminder_data(clinic, slot, pid, lead))])
        for request in self.store.open_requests_starting_between(now, now + reminders.HORIZON, confirmed=True):
            lead = reminders.due_lead(request["start"], now)
            if lead is not None:
                clinic = self.store.clinic(request["clinic_id"])
                sent += self._once(reminders.claim_key(request["slot_id"], f"interpreter:{request['_id']}", lead),
                                   clinic["_id"], None,
                                   [("interpreter-reminder", events.interpreter_reminder_data(request, clinic, lead))])
        return sent

    def watch_interpretation(self) -> int:
        """A language still without an interpreter at the warning time: the program team is told once,
        and everyone registered who chose it is told (newcomers on a later run)."""
        now, warn = self.ctx.now(), self.ctx.config.warn_before
        sent = 0
        for request in self.store.open_requests_starting_between(now, now + warn, confirmed=False):
            if not interpretation.warning_due(request, now, warn):
                continue
            clinic = self.store.clinic(request["clinic_id"])
            waiting = self.store.active_with_interpretation(request["slot_id"], request["language"])
            data = events.missing_data(request, interpretation.missing_reason(request),
                                       interpretation.declined(request), len(waiting))
            sent += self._once(f"missing|{request['_id']}", clinic["_id"], None, [("interpretation-missing", data)])
            for registration in waiting:
                pid = registration["participant_id"]
                sent += self._once(f"unavailable|{registration['_id']}|{request['_id']}", clinic["_id"], pid,
                                   [("interpretation-unavailable", events.unavailable_data(clinic, request, pid))])
        return sent

    def _once(self, key: str, clinic_id: str, participant_id: str | None, told: list[tuple[str, dict]]) -> int:
        if self.store.claimed(key):
            return 0

        def work(session):
            if self.store.claimed(key, session):
                return 0
            self.store.claim(key, clinic_id, participant_id, self.ctx.now(), session)
            self.ctx.outbox.add_many(session, told)
            return 1

        try:
            return self.ctx.transaction(work)
        except DuplicateKeyError:
            return 0  # another worker claimed it first


class People:
    """The read model of registry and matcher events, the invitations a newcomer gets, erasure."""

    def __init__(self, ctx: Context, seats_: Seats):
        self.ctx = ctx
        self.store = ctx.store
        self.seats = seats_

    def _held(self, session: ClientSession, participant_id: str, revision: int) -> tuple[dict | None, bool]:
        if self.ctx.erased(participant_id, session):
            return None, True
        held = self.store.person(participant_id, session)
        return held, people.is_stale(held, revision)

    def _save(self, session: ClientSession, held: dict | None, person: dict) -> None:
        """Store the person (with the topics they already have a connection on) and move the
        suggestions' counters by what changed."""
        person["connected"] = self.store.connected_topics(person["_id"], session)
        self.store.save_person(person, session)
        self.store.move_counters(demand.delta(held, person), session)

    def on_arrivals(self, session: ClientSession, envelopes: list[dict]) -> None:
        """A poll's participant-registered, participant-updated and skill-registered events, in
        order, with one read and one write per collection whatever their number: each person's
        newest state is saved once, the counters move by what changed, and each is invited to the
        clinics they now qualify for."""
        self.store.known_topics.learn_all(session, [envelope["data"]["topic"] for envelope in envelopes
                                                    if envelope["type"] == "skill-registered"])
        pids = list(dict.fromkeys(envelope["data"]["participant_id"] for envelope in envelopes))
        erased = self.ctx.erased_among(pids, session)
        before = self.store.people_of([pid for pid in pids if pid not in erased], session)
        held = dict(before)
        changed: dict[str, None] = {}
        for envelope in envelopes:
            data = envelope["data"]
            pid = data["participant_id"]
            if pid in erased or people.is_stale(held.get(pid), data["revision"]):
                continue
            held[pid] = (people.with_skill(held.get(pid), data) if envelope["type"] == "skill-registered"
                         else people.from_participant(data))
            changed[pid] = None
        if not changed:
            return
        connected = self.store.connected_topics_of(list(changed), session)
        saved = [{**held[pid], "connected": connected.get(pid, [])} for pid in changed]
        self.store.save_people(saved, session)
        moves: Counter = Counter()
        for person in saved:
            moves.update(demand.delta(before.get(person["_id"]), person))
        self.store.move_counters({key: amount for key, amount in moves.items() if amount}, session)
        self._invite(session, saved)

    def on_skill_withdrawn(self, session: ClientSession, data: dict) -> None:
        held, stale = self._held(session, data["participant_id"], data["revision"])
        if stale or held is None:
            return
        changes = people.without_skill(held, data)
        if changes is not None:
            self._save(session, held, {**held, **changes})

    def on_connection(self, session: ClientSession, data: dict) -> None:
        """match-confirmed / connection-completed: these learners have a connection on the topic."""
        learners = [pid for pid in people.learners_connected(data) if not self.ctx.erased(pid, session)]
        if not learners:
            return
        self.store.add_connection(data["match_id"], data["topic"], learners, session)
        for pid in learners:
            held = self.store.person(pid, session)
            if held is not None and not held.get("withdrawn"):
                self._save(session, held, dict(held))

    def on_withdrawn(self, session: ClientSession, data: dict) -> None:
        """Erasure: the person's record goes (a keyed hash of the id keeps later stale events out),
        active seats are freed (the waitlist moves up), upcoming clinics lose them as a presenter, what
        they wrote is emptied, and their history is kept only under an anonymous id."""
        pid = data["participant_id"]
        self.store.mark_erased(keyed_hash(self.ctx.settings, "erased", pid), data["revision"], self.ctx.now(), session)
        self.store.move_counters(demand.delta(self.store.person(pid, session), None), session)
        self.store.forget_person(pid, session)
        for registration in self.store.active_registrations_of(pid, session):
            clinic = self.store.clinic(registration["clinic_id"], session)
            self.seats.free(session, clinic, registration, "cancelled_by_participant", tell=False)
        for clinic in self.store.clinics_not_yet_started(self.ctx.now(), session):
            if pid in clinic["sharers"]:
                self.store.set_clinic(clinic["_id"], {"sharers": [s for s in clinic["sharers"] if s != pid]}, session)
        alias = f"erased-{new_id()}"
        self.store.erase_traces(pid, alias, session)
        for field in ("attendees", "confirmed_attendees", "sharers"):
            self.store.replace_in_clinics(field, pid, alias, session)
        self.store.replace_unconsented(pid, alias, session)

    def _invite(self, session: ClientSession, persons: list[dict]) -> None:
        """People who register (or gain an interest) after a clinic was scheduled are invited too,
        once."""
        now = self.ctx.now()
        invited_events = []
        for clinic in self.store.clinics_not_yet_started(now, session):
            reasons = {person["_id"]: reason for person in persons
                       if (reason := invitations.invitation_reason(clinic, person))}
            invited = self.store.invited_among(clinic["_id"], list(reasons), session) if reasons else set()
            invites = [(pid, reason) for pid, reason in reasons.items() if pid not in invited]
            if invites:
                self.store.insert_invitations(clinic["_id"], invites, now, session)
                invited_events += [("clinic-invited", events.invitation_data(clinic, pid, reason))
                                   for pid, reason in invites]
        self.ctx.outbox.add_many(session, invited_events)


class Spaces:
    """The movement's other learning spaces: written only when the public calendar can show them."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def add(self, data: dict, actor: dict | None = None) -> dict:
        """A new space; `actor`: the staff member, audited in the same transaction."""
        self.ctx.check_topics(data["topics"])
        space = spaces.new_space(data, self.ctx.now(), new_id)

        def work(session):
            self.store.insert_space(space, session)
            self.ctx.audited(session, actor, "space.add", space["_id"], after=space_view(space), target="space")
            return space

        return self.ctx.transaction(work)

    def get(self, space_id: str) -> dict:
        return self.store.space(space_id)

    def edit(self, space_id: str, patch: dict, actor: dict | None = None) -> dict:
        if "topics" in patch:
            self.ctx.check_topics(patch["topics"])

        def work(session):
            space = self.store.space(space_id, session)
            changes = spaces.edit(space, patch, self.ctx.now())
            self.store.set_space(space_id, changes, session)
            before, after = audit.changes(space, {**space, **changes}, fields=SPACE_FIELDS + ("start",))
            self.ctx.audited(session, actor, "space.update", space_id, before, after, target="space")
            return {**space, **changes}

        return self.ctx.transaction(work)

    def delete(self, space_id: str, actor: dict | None = None) -> None:
        def work(session):
            space = self.store.space(space_id, session)
            self.store.delete_space(space_id, session)
            self.ctx.audited(session, actor, "space.delete", space_id, before=space_view(space), target="space")

        self.ctx.transaction(work)

    def listing(self, topic: str | None, language: str | None, kind: str | None, region: str | None) -> list[dict]:
        return self.store.spaces_matching(topic, language, kind, region)

    def import_calendar(self, payload: bytes, defaults: spaces.ImportDefaults, actor: dict | None = None) -> dict:
        """Every event of an iCalendar file, each imported or refused with its reasons; the ones that
        pass are written together in one transaction (all or none)."""
        self.ctx.check_topics(defaults.topics, "topic")
        now = self.ctx.now()
        try:
            found = spaces.read(payload)
        except spaces.FileUnreadable as exc:
            raise Invalid("file", [str(exc)], "the file could not be read") from exc
        candidates = {c for event in found for c in spaces.categories(event)}
        unknown = set(self.store.known_topics.unknown(candidates))
        results = [spaces.from_event(index, event, defaults, lambda code: code not in unknown, now)
                   for index, event in enumerate(found)]
        accepted = {r.space["source_uid"]: r for r in results if r.ok}  # a repeated UID: the last wins

        def work(session):
            held = self.store.spaces_by_source(list(accepted), session)
            inserts, updates, ids = [], [], {}
            for uid, result in accepted.items():
                if uid in held:
                    ids[uid] = ("updated", held[uid]["_id"])
                    updates.append((held[uid]["_id"], {**result.space, "updated_at": now}))
                else:
                    space = {"_id": new_id(), **result.space, "created_at": now, "updated_at": now}
                    ids[uid] = ("created", space["_id"])
                    inserts.append(space)
            self.store.write_spaces(inserts, updates, session)
            self.ctx.audited(session, actor, "space.import", "calendar", target="spaces",
                             after={"created": [s["_id"] for s in inserts], "updated": [u[0] for u in updates]})
            return ids

        written = self.ctx.transaction(work) if accepted else {}
        views = []
        for result in results:
            if result.skipped:
                views.append(spaces.result_view(result, "skipped"))
            elif not result.ok:
                views.append(spaces.result_view(result, "error"))
            else:
                status, space_id = written[result.space["source_uid"]]
                views.append(spaces.result_view(result, status, space_id))
        counts = {status: sum(1 for v in views if v["status"] == status)
                  for status in ("created", "updated", "skipped", "error")}
        return {"events": len(results), **counts, "results": views}


class Calendars:
    """iCalendar feeds: one clinic, the public calendar, a person's own feed (and its link). A record
    that cannot be rendered is left out and logged: a feed never fails for one bad record."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    @property
    def base_url(self) -> str:
        return self.ctx.settings.service_url(SERVICE)

    def _render(self, name: str, builders: list[tuple[list, Callable]], tz) -> bytes:
        found = []
        for items, build in builders:
            built, failed = calendar.feed_events(items, lambda item: build(item, tz))
            for item, why in failed:
                log.error("calendar %r: left out %s: %s", name, item.get("_id"), why)
            found += built
        try:
            return calendar.render(calendar.new_calendar(name), found, tz)
        except Exception as exc:  # the zone's data could not be written: the feed in UTC instead
            if tz is None:
                raise
            log.error("calendar %r in %s failed (%s); written in UTC", name, tz, exc)
            return self._render(name, builders, None)

    def clinic(self, clinic_id: str, tz) -> bytes:
        clinic = self.store.clinic(clinic_id)
        if clinic["status"] == clinics.PROPOSED:
            raise NotFound("no such clinic")
        now = self.ctx.now()
        return self._render(clinic["title"], [([clinic], lambda c, zone: calendar.clinic_events(
            c, now, tz=zone, base_url=self.base_url))], tz)

    def public(self, topic: str | None, language: str | None, tz) -> bytes:
        now = self.ctx.now()
        listed = [c for c in self.store.upcoming_clinics(now) if calendar.clinic_listed(c, topic, language)]
        shown = [s for s in self.store.spaces_with_start() if calendar.space_listed(s, topic, language, now)]
        return self._render("Let's Connect learning calendar", [
            (listed, lambda c, zone: calendar.clinic_events(c, now, tz=zone, base_url=self.base_url)),
            (shown, lambda s, zone: [calendar.space_event({**s, "rrule": s.get("recurrence")}, now, zone)]),
        ], tz)

    def own(self, participant_id: str, tz) -> bytes:
        """The person's confirmed seats and the clinics they present (with the meeting links), and the
        learning spaces on their topics."""
        now = self.ctx.now()
        mine = {r["clinic_id"]: r["slot_id"] for r in self.store.confirmed_registrations_of(participant_id)}
        seated = [c for c in self.store.clinics_by_ids(list(mine)) if c["status"] == clinics.SCHEDULED]
        presenting = [c for c in self.store.clinics_presented_by(participant_id) if c["status"] == clinics.SCHEDULED
                      and c["_id"] not in mine]
        topics = self.store.topics_of(participant_id)
        shown = [s for s in self.store.spaces_with_start(sorted(topics)) if spaces.on_topics(s, topics, now.date())]

        def clinic_events(clinic, zone, slot_ids=None):
            return calendar.clinic_events(clinic, now, tz=zone, meeting_url=clinic.get("meeting_url"),
                                          slot_ids=slot_ids, base_url=self.base_url)

        return self._render("My Let's Connect calendar", [
            (seated, lambda c, zone: clinic_events(c, zone, {mine[c["_id"]]})),
            (presenting, lambda c, zone: clinic_events(c, zone)),
            (shown, lambda s, zone: [calendar.space_event({**s, "rrule": s.get("recurrence")}, now, zone)]),
        ], tz)

    def feed_link(self, participant_id: str) -> dict:
        """The person's private feed address: a calendar.feed link token (the only token the feed takes)."""
        token = issue_link_token(self.ctx.settings, participant_id, "calendar.feed", participant_id)
        return {"url": f"{self.base_url}/participants/{participant_id}/calendar.ics?token={token}",
                "scope": "calendar.feed"}


class Suggestions:
    """What to schedule next: slot times, topics, and quarterly dates before funding deadlines."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.store = ctx.store

    def slots(self, topic: str, day: date | None, minutes: int) -> dict:
        """The two start times (UTC) that suit the most people wanting to learn the topic, with counts."""
        self.ctx.check_topics([topic], "topic")
        day = day or (self.ctx.now() + timedelta(days=14)).date()
        counters = (self.store.topic_counters([topic]) or [{}])[0]
        return {"topic": topic, "date": day.isoformat(), "minutes": minutes,
                "interested": max(0, counters.get("learners", 0)),
                **self._times(demand.zone_weights(counters, "learner_zones"), day, minutes)}

    @staticmethod
    def _times(weights: dict[str, int], day: date, minutes: int) -> dict:
        starts = best_starts(weights, day, minutes)
        return {"reached": reached(weights, starts),
                "slots": [{"start": iso(s.start), "minutes": minutes, "count": s.count} for s in starts]}

    def topics(self, limit: int) -> dict:
        """Topics for the next monthly clinic, from the counters (no scan of the people)."""
        now = self.ctx.now()
        topics = topic_ranking.from_counters(self.store.topic_counters())
        presenting = topic_ranking.add_clinics(topics, self.store.clinic_history(), now)
        topic_ranking.add_presenting(topics, self.store.people_sharing(sorted(presenting)))
        hot = {code for code, topic in base_topics().items() if topic.get("hot")}
        return {"items": topic_ranking.rank(topics, hot, now, limit)}

    def dates(self, region: str | None, theme: str | None, topics: list[str], minutes: int, limit: int) -> dict:
        """Quarterly clinic dates before the funding cycle's deadlines, each with the start times that
        suit the most people of the region (or with an interest in the theme's topics, counted once per
        topic)."""
        self.ctx.check_topics(topics, "topic")
        today = self.ctx.now().date()
        covered = [d.date() for d in self.store.quarterly_dates(region, theme)]
        proposals = funding.suggest_dates(list(self.ctx.config.funding_calendar), today, region, covered)[:limit]
        weights: Counter = Counter()
        if region:
            weights.update(demand.zone_weights(self.store.region_counter(region), "zones"))
        else:
            for counters in self.store.topic_counters(topics) if topics else []:
                weights.update(demand.zone_weights(counters, "learner_zones"))
                weights.update(demand.zone_weights(counters, "sharer_zones"))
        who = f"the region {region}" if region else "the theme's topics" if topics else None
        items = []
        for proposal in proposals:
            times = self._times(dict(weights), date.fromisoformat(proposal["date"]), minutes)
            reasons = proposal["reasons"] + ([f"these times suit {times['reached']} of the {sum(weights.values())} "
                                              f"people of {who}"] if who else [])
            items.append({**proposal, **times, "reasons": reasons})
        return {"region": region, "theme": theme, "topics": topics, "items": items}


class SchedulerService:
    """Every use case of the scheduler, by subject."""

    def __init__(self, store: Store, settings: Settings, config: SchedulerConfig | None = None,
                 clock: Clock | None = None):
        self.ctx = Context(store, settings, config or SchedulerConfig(), clock)
        self.store = store
        self.team = Team(self.ctx)
        self.seats = Seats(self.ctx)
        self.clinics = Clinics(self.ctx, self.team, self.seats)
        self.sessions = Sessions(self.ctx)
        self.feedback = Feedback(self.ctx)
        self.interpretation = Interpretation(self.ctx)
        self.reminders = Reminders(self.ctx)
        self.people = People(self.ctx, self.seats)
        self.spaces = Spaces(self.ctx)
        self.calendars = Calendars(self.ctx)
        self.suggestions = Suggestions(self.ctx)

    def now(self) -> datetime:
        return self.ctx.now()
