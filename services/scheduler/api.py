"""HTTP routes of the scheduler: parse (schemas.py) -> the use case (service.py) -> render.
The rules are in domain/, the queries in store.py."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Response
from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_participant, require_staff
from shared.web import Blueprint, service_layer

from services.scheduler.domain.errors import Invalid, NotFound, Refused
from services.scheduler.domain.views import space_view
from services.scheduler.schemas import (
    CalendarQuery, ClinicIn, ClinicPatch, ClinicQuery, CompletionIn, FeedbackIn, FeedQuery, RegistrationIn,
    SpaceIn, SpaceQuery, SuggestQuery,
)
from services.scheduler.service import SchedulerService

blp = Blueprint("scheduler", __name__, description="Learning clinics, seats, calendars, learning spaces")
ICS = "text/calendar"


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


@blp.route("/clinics")
class Clinics(MethodView):
    @blp.arguments(ClinicIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Schedule a clinic (staff); invitations go out with it."""
        require_staff()
        return answer(use_cases().clinics.schedule, data), 201

    @blp.arguments(ClinicQuery, location="query")
    def get(self, query):
        """Clinics (upcoming unless include_past), filter by topic, language, kind."""
        items = use_cases().clinics.listing(query["topic"], query["language"], query["kind"], query["include_past"])
        return {"items": items, "next": None}


@blp.route("/clinics/suggest-slots")
class SuggestSlots(MethodView):
    @blp.arguments(SuggestQuery, location="query")
    def get(self, query):
        """The two start times (UTC) that suit the most people wanting to learn the topic, with counts."""
        return answer(use_cases().suggestions.slots, query["topic"], query["date"], query["minutes"])


@blp.route("/clinics/<clinic_id>")
class ClinicOne(MethodView):
    def get(self, clinic_id):
        return answer(use_cases().clinics.view, clinic_id)

    @blp.arguments(ClinicPatch)
    @blp.doc(security=[{"bearer": []}])
    def patch(self, data, clinic_id):
        """Change title, description, link or slot times (staff); everyone registered is told."""
        require_staff()
        return answer(use_cases().clinics.edit, clinic_id, data)

    @blp.doc(security=[{"bearer": []}])
    def delete(self, clinic_id):
        """Cancel the clinic (staff); everyone registered is told."""
        require_staff()
        return answer(use_cases().clinics.cancel, clinic_id)


@blp.route("/clinics/<clinic_id>/cancel")
class ClinicCancel(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def post(self, clinic_id):
        """Same as DELETE /clinics/{id}."""
        return ClinicOne().delete(clinic_id)


@blp.route("/clinics/<clinic_id>/registrations")
class Registrations(MethodView):
    @blp.arguments(RegistrationIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, clinic_id):
        """Take a seat (participant with own token, or staff): confirmed while seats last, then the waitlist."""
        require_participant(data["participant"], scope="clinic.register", resource=clinic_id)
        return answer(use_cases().seats.register, clinic_id, data["participant"], data["slot"],
                      data["interpretation"]), 201

    @blp.doc(security=[{"bearer": []}])
    def get(self, clinic_id):
        """Everyone registered (staff)."""
        require_staff()
        return {"items": answer(use_cases().seats.everyone, clinic_id), "next": None}


@blp.route("/clinics/<clinic_id>/registrations/<participant_id>")
class RegistrationOne(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def get(self, clinic_id, participant_id):
        require_participant(participant_id, scope="clinic.register", resource=clinic_id)
        return answer(use_cases().seats.registration, clinic_id, participant_id)

    @blp.doc(security=[{"bearer": []}])
    def delete(self, clinic_id, participant_id):
        """Give the seat back; the first on the waitlist gets it at once."""
        require_participant(participant_id, scope="clinic.register", resource=clinic_id)
        return answer(use_cases().seats.give_back, clinic_id, participant_id)


@blp.route("/clinics/<clinic_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompletionIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, clinic_id):
        """Record attendance and the recording (staff) -> session-completed."""
        require_staff()
        return answer(use_cases().sessions.complete, clinic_id, data)


@blp.route("/clinics/<clinic_id>/feedback")
class Feedback(MethodView):
    @blp.arguments(FeedbackIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, clinic_id):
        """Feedback from someone who attended, once -> feedback-submitted."""
        require_participant(data["participant"], scope="clinic.feedback", resource=clinic_id)
        return answer(use_cases().sessions.give_feedback, clinic_id, data), 201


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
        _, payload = answer(use_cases().calendars.clinic, clinic_id, _zone(query))
        return _ics(payload, f"clinic-{clinic_id}.ics")


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
        """A participant's own feed of confirmed clinics, with the meeting links. Calendar apps cannot
        send headers, so the participant's token goes in the query string."""
        require_participant(participant_id, scope="calendar.feed", staff_roles=(), token=query["token"])
        return _ics(use_cases().calendars.own(participant_id, _zone(query)), "my-clinics.ics")


# ----- other learning spaces

@blp.route("/spaces")
class Spaces(MethodView):
    @blp.arguments(SpaceIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Add a community of practice, periodic meeting, chat group or mentoring program (staff)."""
        require_staff()
        return space_view(answer(use_cases().spaces.add, data)), 201

    @blp.arguments(SpaceQuery, location="query")
    def get(self, query):
        items = use_cases().spaces.listing(query["topic"], query["language"], query["kind"], query["region"])
        return {"items": [space_view(s) for s in items], "next": None}
