"""HTTP routes of the scheduler: parse (schemas.py) -> the use case (service.py) -> render.
The rules are in domain/, the queries in store.py.

Who may call what (docs/security.md): staff routes name their roles (the working group runs
clinics, spaces, attendance and feedback; an ambassador may propose a clinic; a coordinator may do
everything); a participant acts with their session or with a link token of exactly that action
(clinic.register for seats, clinic.feedback for feedback, clinic.present for the presenter's view,
calendar.feed for the private feed); an interpreter only with their interpretation.respond link.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response, request
from flask.views import MethodView
from flask_smorest import abort
from werkzeug.exceptions import HTTPException

from shared.audit import actor_of
from shared.auth import acting_participant, principal, require_participant, require_staff, staff_may_act, verified
from shared.roles import RUNS_PROGRAM
from shared.web import Blueprint, accepts, service_layer

from services.scheduler.domain.errors import Invalid, NotFound, Refused
from services.scheduler.domain.spaces import ImportDefaults
from services.scheduler.domain.views import space_view
from services.scheduler.schemas import (
    CalendarQuery, ClinicIn, ClinicPatch, ClinicQuery, CompletionIn, FeedbackIn, FeedbackQuery, FeedQuery,
    InterpretationResponseIn, RecordingConfirmIn, RegistrationIn, SpaceImportQuery, SpaceIn, SpacePatch, SpaceQuery,
    SuggestDatesQuery, SuggestQuery, SuggestTopicsQuery,
)
from services.scheduler.service import SchedulerService

blp = Blueprint("scheduler", __name__, description="Learning clinics, seats, calendars, learning spaces")
ICS = "text/calendar"
WORKING_GROUP = "working_group"
BEARER = [{"bearer": []}]


def use_cases() -> SchedulerService:
    return service_layer()


def answer(call, *args, **kwargs):
    """The use case's result, or the 404/403/409/422 its refusal explains (naming the field)."""
    try:
        return call(*args, **kwargs)
    except NotFound as exc:
        abort(404, message=exc.message)
    except Invalid as exc:
        abort(422, message=exc.message, errors={"json": {exc.field: exc.messages}})
    except Refused as exc:
        if exc.field:
            abort(exc.code, message=exc.message, errors={"json": {exc.field: [exc.message]}})
        abort(exc.code, message=exc.message)


def _is_staff() -> bool:
    """Staff see proposals on public routes; any other caller, even with a token that no longer
    verifies, sees what the public sees."""
    try:
        found = principal()
    except HTTPException:
        return False
    return found is not None and found.is_staff


def _runs_program() -> bool:
    """The working group (and coordinators) also see a completed clinic's attendance and recording."""
    try:
        found = principal()
    except HTTPException:
        return False
    return found is not None and found.is_staff and found.has_role(*RUNS_PROGRAM)


# ----- clinics

@blp.route("/clinics")
class Clinics(MethodView):
    @blp.arguments(ClinicIn)
    @blp.doc(security=BEARER)
    def post(self, data):
        """Schedule a clinic (working group): invitations, presenter messages and interpreter requests
        go out with it. From an ambassador, a proposal (status proposed): nothing is announced until
        the working group approves it (POST /clinics/{id}/approve)."""
        staff = require_staff()
        proposed_by = None if staff.has_role(WORKING_GROUP) else staff.subject
        return answer(use_cases().clinics.schedule, data, proposed_by, actor_of(staff)), 201

    @blp.arguments(ClinicQuery, location="query")
    def get(self, query):
        """Clinics (upcoming unless include_past), filter by topic, language, kind, each slot with its
        seats left. Never proposals."""
        items = use_cases().clinics.listing(query["topic"], query["language"], query["kind"], query["include_past"])
        return {"items": items, "next": None}


@blp.route("/clinics/proposals")
class Proposals(MethodView):
    @blp.doc(security=BEARER)
    def get(self):
        """Ambassadors' proposals waiting for the working group (staff)."""
        require_staff()
        return {"items": use_cases().clinics.proposals(), "next": None}


@blp.route("/clinics/suggest-slots")
class SuggestSlots(MethodView):
    @blp.arguments(SuggestQuery, location="query")
    def get(self, query):
        """The two start times (UTC) that suit the most people wanting to learn the topic, with counts."""
        return answer(use_cases().suggestions.slots, query["topic"], query["date"], query["minutes"])


@blp.route("/clinics/suggest-topics")
class SuggestTopics(MethodView):
    @blp.arguments(SuggestTopicsQuery, location="query")
    def get(self, query):
        """Topics for the next monthly clinic, best first, each with its reasons: learners waiting
        without a connection, starter topics, sharers free to present, time since the last clinic."""
        return use_cases().suggestions.topics(query["limit"])


@blp.route("/clinics/suggest-dates")
class SuggestDates(MethodView):
    @blp.arguments(SuggestDatesQuery, location="query")
    def get(self, query):
        """Dates for a quarterly regional or thematic clinic before the funding cycle's deadlines
        (LC_SCHEDULER_FUNDING_CALENDAR), each with the best start times for its people."""
        return answer(use_cases().suggestions.dates, query["region"], query["theme"], query["topic"],
                      query["minutes"], query["limit"])


@blp.route("/clinics/<clinic_id>")
class ClinicOne(MethodView):
    def get(self, clinic_id):
        """One clinic: seats left per slot, interpretation per language (requested, confirmed, missing);
        for the working group, a completed clinic's attendance and recording (whether it waits for
        POST .../recording/confirm, and for whom)."""
        return answer(use_cases().clinics.view, clinic_id, _is_staff(), _runs_program())

    @blp.arguments(ClinicPatch)
    @blp.doc(security=BEARER)
    def patch(self, data, clinic_id):
        """Change title, description, link, presenters or slot times (working group); everyone
        registered, every presenter and every confirmed interpreter is told."""
        staff = require_staff()
        return answer(use_cases().clinics.edit, clinic_id, data, actor_of(staff))

    @blp.doc(security=BEARER)
    def delete(self, clinic_id):
        """Cancel the clinic, or withdraw a proposal (working group); everyone concerned is told."""
        staff = require_staff()
        return answer(use_cases().clinics.cancel, clinic_id, actor_of(staff))


@blp.route("/clinics/<clinic_id>/cancel")
class ClinicCancel(MethodView):
    @blp.doc(security=BEARER)
    def post(self, clinic_id):
        """Same as DELETE /clinics/{id}."""
        return ClinicOne().delete(clinic_id)


@blp.route("/clinics/<clinic_id>/approve")
class ClinicApprove(MethodView):
    @blp.doc(security=BEARER)
    def post(self, clinic_id):
        """Schedule an ambassador's proposal (working group): it is announced now."""
        staff = require_staff()
        return answer(use_cases().clinics.approve, clinic_id, actor_of(staff))


@blp.route("/clinics/<clinic_id>/presenter")
class Presenter(MethodView):
    @blp.doc(security=BEARER)
    def get(self, clinic_id):
        """The presenter's view (their session or the clinic.present link of their message): times,
        the meeting link, seats taken, interpretation, how to prepare and where to upload slides."""
        pid = acting_participant(scope="clinic.present", resource=clinic_id)
        return answer(use_cases().clinics.presenter, clinic_id, pid)


@blp.route("/clinics/<clinic_id>/interpretation")
class ClinicInterpretation(MethodView):
    @blp.doc(security=BEARER)
    def get(self, clinic_id):
        """Every interpretation request of the clinic, per language and slot (working group)."""
        require_staff()
        return answer(use_cases().interpretation.for_staff, clinic_id)


# ----- seats

@blp.route("/clinics/<clinic_id>/registrations")
class Registrations(MethodView):
    @blp.arguments(RegistrationIn)
    @blp.doc(security=BEARER)
    def post(self, data, clinic_id):
        """Take a seat (the participant, by session or clinic.register link, or the working group):
        confirmed while seats last, then the waitlist. A presenter's place needs no seat (409)."""
        require_participant(data["participant"], scope="clinic.register", resource=clinic_id)
        return answer(use_cases().seats.register, clinic_id, data["participant"], data["slot"],
                      data["interpretation"]), 201

    @blp.doc(security=BEARER)
    def get(self, clinic_id):
        """Everyone registered (working group)."""
        require_staff()
        return {"items": answer(use_cases().seats.everyone, clinic_id), "next": None}


@blp.route("/clinics/<clinic_id>/registrations/<participant_id>")
class RegistrationOne(MethodView):
    @blp.doc(security=BEARER)
    def get(self, clinic_id, participant_id):
        """The person's registration (status presenter for a presenter), with the link while confirmed."""
        require_participant(participant_id, scope="clinic.register", resource=clinic_id)
        return answer(use_cases().seats.registration, clinic_id, participant_id)

    @blp.doc(security=BEARER)
    def delete(self, clinic_id, participant_id):
        """Give the seat back; the first on the waitlist gets it at once."""
        require_participant(participant_id, scope="clinic.register", resource=clinic_id)
        return answer(use_cases().seats.give_back, clinic_id, participant_id)


@blp.route("/participants/<participant_id>/registrations")
class OwnRegistrations(MethodView):
    @blp.doc(security=BEARER)
    def get(self, participant_id):
        """The person's own seats and waitlist places at upcoming and past clinics (their session,
        or the working group), soonest first: the portal's "my clinics"."""
        require_participant(participant_id)
        return {"items": answer(use_cases().seats.of_participant, participant_id), "next": None}


# ----- completion, recording, feedback

@blp.route("/clinics/<clinic_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompletionIn)
    @blp.doc(security=BEARER)
    def post(self, data, clinic_id):
        """Record attendance and the recording (working group) -> session-completed. The recording is
        published only when every attendee consented; otherwise it waits for .../recording/confirm."""
        staff = require_staff()
        return answer(use_cases().sessions.complete, clinic_id, data, actor_of(staff))


@blp.route("/clinics/<clinic_id>/recording/confirm")
class RecordingConfirm(MethodView):
    @blp.arguments(RecordingConfirmIn)
    @blp.doc(security=BEARER)
    def post(self, data, clinic_id):
        """Confirm that the attendees who did not consent were not recorded (working group): the
        recording may be published (clinic-recording-cleared names the basis and who confirmed)."""
        staff = require_staff()
        return answer(use_cases().sessions.confirm_recording, clinic_id, data["not_recorded"], staff.subject,
                      actor_of(staff))


@blp.route("/clinics/<clinic_id>/feedback")
class Feedback(MethodView):
    @blp.arguments(FeedbackIn)
    @blp.doc(security=BEARER)
    def post(self, data, clinic_id):
        """Feedback from someone who attended (their session or clinic.feedback link), once."""
        require_participant(data["participant"], scope="clinic.feedback", resource=clinic_id, staff_roles=())
        return answer(use_cases().feedback.give, clinic_id, data), 201

    @blp.doc(security=BEARER)
    def get(self, clinic_id):
        """What the attendees said (working group): aggregates and every answer, without names."""
        require_staff()
        return answer(use_cases().feedback.of_clinic, clinic_id)


@blp.route("/feedback")
class FeedbackAcross(MethodView):
    @blp.arguments(FeedbackQuery, location="query")
    @blp.doc(security=BEARER)
    def get(self, query):
        """Feedback across clinics (working group), on a topic, since a time: summary, per topic, and
        the answers newest first (paged with `next`)."""
        require_staff()
        return answer(use_cases().feedback.across, query["topic"], query["since"], query["cursor"], query["limit"])


@blp.route("/feedback/questions")
class FeedbackQuestions(MethodView):
    def get(self):
        """The feedback form: rating, useful, and the pilot survey's follow-up questions."""
        return use_cases().feedback.questions()


# ----- interpretation

def _interpreter(request_id: str, staff_may_read: bool) -> str | None:
    """The interpreter an interpretation.respond link speaks for; None for the working group reading."""
    found = principal()
    if found is None:
        abort(401, message="this needs the link from your interpretation request")
    if found.holds_link("interpretation.respond", request_id):
        return found.subject
    if staff_may_read and staff_may_act(found):
        return None
    abort(403, message="this link does not allow that action")


@blp.route("/interpretation-requests/<request_id>")
class InterpretationRequest(MethodView):
    @blp.doc(security=BEARER)
    def get(self, request_id):
        """The session an interpreter is asked for (their link), with the meeting link once they interpret."""
        return answer(use_cases().interpretation.view, request_id, _interpreter(request_id, staff_may_read=True))


@blp.route("/interpretation-requests/<request_id>/respond")
class InterpretationRespond(MethodView):
    @blp.arguments(InterpretationResponseIn)
    @blp.doc(security=BEARER)
    def post(self, data, request_id):
        """Accept or decline interpreting (the interpreter's link): the first to accept interprets."""
        interpreter = _interpreter(request_id, staff_may_read=False)
        return answer(use_cases().interpretation.respond, request_id, interpreter, data["response"])


# ----- calendars

def _zone(query) -> ZoneInfo | None:
    return ZoneInfo(query["tz"]) if query.get("tz") else None


def _ics(payload: bytes, name: str) -> Response:
    return Response(payload, mimetype=ICS, headers={"Content-Disposition": f'inline; filename="{name}"'})


@blp.route("/clinics/<clinic_id>.ics")
class ClinicCalendar(MethodView):
    @blp.arguments(CalendarQuery, location="query")
    @blp.response(200, content_type=ICS)
    def get(self, query, clinic_id):
        return _ics(answer(use_cases().calendars.clinic, clinic_id, _zone(query)), f"clinic-{clinic_id}.ics")


@blp.route("/calendar.ics")
class PublicCalendar(MethodView):
    @blp.arguments(CalendarQuery, location="query")
    @blp.response(200, content_type=ICS)
    def get(self, query):
        """Upcoming clinics and the movement's other learning spaces; filter by topic and language."""
        return _ics(use_cases().calendars.public(query["topic"], query["language"], _zone(query)), "calendar.ics")


@blp.route("/participants/<participant_id>/calendar.ics")
class OwnCalendar(MethodView):
    @blp.arguments(FeedQuery, location="query")
    @blp.response(200, content_type=ICS)
    def get(self, query, participant_id):
        """A person's private feed: their clinics (seats and presenting, with the meeting links) and the
        learning spaces on their topics. Calendar apps cannot send headers, so the feed's own link token
        (scope calendar.feed) goes in the query string; a session token is never accepted here."""
        found = verified(query["token"])
        if not found.holds_link("calendar.feed", participant_id, participant_id):
            abort(403, message="use your calendar feed link (POST /participants/{id}/calendar-feed)")
        return _ics(use_cases().calendars.own(participant_id, _zone(query)), "my-calendar.ics")


@blp.route("/participants/<participant_id>/calendar-feed")
class FeedLink(MethodView):
    @blp.doc(security=BEARER)
    def post(self, participant_id):
        """The address of the person's private feed (their session token only), with a calendar.feed token."""
        require_participant(participant_id, staff_roles=())
        return use_cases().calendars.feed_link(participant_id), 201


# ----- other learning spaces

@blp.route("/spaces")
class Spaces(MethodView):
    @blp.arguments(SpaceIn)
    @blp.doc(security=BEARER)
    def post(self, data):
        """Add a community of practice, periodic meeting, chat group or mentoring program (working group)."""
        staff = require_staff()
        return space_view(answer(use_cases().spaces.add, data, actor_of(staff))), 201

    @blp.arguments(SpaceQuery, location="query")
    def get(self, query):
        items = use_cases().spaces.listing(query["topic"], query["language"], query["kind"], query["region"])
        return {"items": [space_view(s) for s in items], "next": None}


@blp.route("/spaces/import")
class SpacesImport(MethodView):
    @accepts("text/calendar")
    @blp.arguments(SpaceImportQuery, location="query")
    @blp.doc(security=BEARER)
    def post(self, query):
        """Import learning spaces from an iCalendar file (text/calendar body; the community calendar's
        export), working group: a result per event (created, updated, skipped or error with the
        reasons); the events that pass are written together, or none."""
        staff = require_staff()
        defaults = ImportDefaults(kind=query["kind"], topics=tuple(query["topic"]),
                                  languages=tuple(query["language"]), region=query["region"])
        return answer(use_cases().spaces.import_calendar, request.get_data(cache=False), defaults, actor_of(staff))


@blp.route("/spaces/<space_id>")
class SpaceOne(MethodView):
    def get(self, space_id):
        return space_view(answer(use_cases().spaces.get, space_id))

    @blp.arguments(SpacePatch)
    @blp.doc(security=BEARER)
    def patch(self, data, space_id):
        """Edit a learning space (working group); refused if the calendar could not show the result. Audited."""
        staff = require_staff()
        return space_view(answer(use_cases().spaces.edit, space_id, data, actor_of(staff)))

    @blp.doc(security=BEARER)
    def delete(self, space_id):
        """Delete a learning space (working group). Audited (with what it was)."""
        staff = require_staff()
        answer(use_cases().spaces.delete, space_id, actor_of(staff))
        return "", 204
