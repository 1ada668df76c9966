"""HTTP routes of the scheduler (thin: the rules are in seats, planning and suggest; writes in store)."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_participant, require_staff
from shared.topics import abort_unless_known
from shared.web import Blueprint

from services.scheduler import calendar
from services.scheduler.planning import slot_problems
from services.scheduler.schemas import (
    CalendarQuery, ClinicIn, ClinicPatch, ClinicQuery, CompletionIn, FeedbackIn, FeedQuery, RegistrationIn,
    SpaceIn, SpaceQuery, SuggestQuery,
)
from services.scheduler.seats import CONFIRMED, RegistrationRefused
from services.scheduler.store import NotFound, Store, iso
from services.scheduler.suggest import suggest_slots

blp = Blueprint("scheduler", __name__, description="Learning clinics, seats, calendars, learning spaces")
ICS = "text/calendar"


def _store() -> Store:
    return current_app.config["LC_STORE"]


def _clinic_or_404(clinic_id: str) -> dict:
    try:
        return _store().clinic(clinic_id)
    except NotFound:
        abort(404, message="no such clinic")


def _refused(exc: RegistrationRefused):
    abort(exc.code, message=exc.message)


def clinic_out(clinic: dict, counts: dict | None = None) -> dict:
    """The public view: never the meeting link."""
    slots = []
    for slot in clinic["slots"]:
        view = {"id": slot["slot_id"], "start": iso(slot["start"]), "minutes": slot["minutes"], "seats": slot["seats"]}
        if counts is not None and slot["slot_id"] in counts:
            view["seats_left"] = max(0, slot["seats"] - counts[slot["slot_id"]]["confirmed"])
        slots.append(view)
    return {"id": clinic["_id"], "kind": clinic["kind"], "title": clinic["title"], "description": clinic["description"],
            "topics": clinic["topics"], "sharers": clinic["sharers"], "slots": slots, "language": clinic["language"],
            "interpretation": clinic["interpretation"], "seats": clinic["seats"], "region": clinic.get("region"),
            "theme": clinic.get("theme"), "status": clinic["status"], "revision": clinic["revision"],
            "has_meeting_link": bool(clinic.get("meeting_url"))}


@blp.route("/clinics")
class Clinics(MethodView):
    @blp.arguments(ClinicIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Schedule a clinic (staff); invitations go out with it."""
        require_staff()
        abort_unless_known(_store().known_topics, data["topics"])
        problems = slot_problems(data["slots"], _store().now())
        if problems:
            abort(422, message="bad slots", errors={"json": {"slots": {str(i): m for i, m in problems.items()}}})
        clinic = _store().schedule(data)
        return clinic_out(clinic, _store().seat_counts(clinic)), 201

    @blp.arguments(ClinicQuery, location="query")
    def get(self, query):
        """Clinics (upcoming unless include_past), filter by topic, language, kind."""
        match: dict = {}
        if not query["include_past"]:
            match["slots.start"] = {"$gt": _store().now()}
            match["status"] = "scheduled"
        if query["topic"]:
            match["topics"] = query["topic"]
        if query["language"]:
            match["$or"] = [{"language": query["language"]}, {"interpretation": query["language"]}]
        if query["kind"]:
            match["kind"] = query["kind"]
        items = [clinic_out(c) for c in _store().clinics.find(match).sort("first_start", 1).limit(500)]
        return {"items": items, "next": None}


@blp.route("/clinics/suggest-slots")
class SuggestSlots(MethodView):
    @blp.arguments(SuggestQuery, location="query")
    def get(self, query):
        """The two start times (UTC) that suit the most people wanting to learn the topic, with counts."""
        abort_unless_known(_store().known_topics, [query["topic"]], "topic")
        day = query["date"] or (_store().now() + timedelta(days=14)).date()
        people = {p["_id"]: p["timezone"] for p in _store().people.find(
            {"learn": query["topic"], "withdrawn": {"$ne": True}}, {"timezone": 1})}
        suggestions = suggest_slots(people, day, query["minutes"])
        return {"topic": query["topic"], "date": day.isoformat(), "minutes": query["minutes"],
                "interested": len(people),
                "reached": len(frozenset().union(*(s.people for s in suggestions))) if suggestions else 0,
                "slots": [{"start": iso(s.start), "minutes": query["minutes"], "count": s.count} for s in suggestions]}


@blp.route("/clinics/<clinic_id>")
class ClinicOne(MethodView):
    def get(self, clinic_id):
        clinic = _clinic_or_404(clinic_id)
        return clinic_out(clinic, _store().seat_counts(clinic))

    @blp.arguments(ClinicPatch)
    @blp.doc(security=[{"bearer": []}])
    def patch(self, data, clinic_id):
        """Change title, description, link or slot times (staff); everyone registered is told."""
        require_staff()
        _clinic_or_404(clinic_id)
        try:
            clinic = _store().update(clinic_id, data)
        except RegistrationRefused as exc:
            _refused(exc)
        return clinic_out(clinic, _store().seat_counts(clinic))

    @blp.doc(security=[{"bearer": []}])
    def delete(self, clinic_id):
        """Cancel the clinic (staff); everyone registered is told."""
        require_staff()
        _clinic_or_404(clinic_id)
        try:
            clinic = _store().cancel(clinic_id)
        except RegistrationRefused as exc:
            _refused(exc)
        return clinic_out(clinic)


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
        _clinic_or_404(clinic_id)
        if _store().people.find_one({"_id": data["participant"], "withdrawn": True}, {"_id": 1}):
            abort(409, message="this participant has withdrawn from the program")
        try:
            result = _store().register(clinic_id, data["participant"], data["slot"], data["interpretation"])
        except RegistrationRefused as exc:
            _refused(exc)
        return result, 201

    @blp.doc(security=[{"bearer": []}])
    def get(self, clinic_id):
        """Everyone registered (staff)."""
        require_staff()
        _clinic_or_404(clinic_id)
        items = [{"participant": r["participant_id"], "slot": r["slot_id"], "status": r["status"],
                  "interpretation": r.get("interpretation"), "position": _store().position(r)}
                 for r in _store().registrations.find({"clinic_id": clinic_id}).sort("seq", 1)]
        return {"items": items, "next": None}


@blp.route("/clinics/<clinic_id>/registrations/<participant_id>")
class RegistrationOne(MethodView):
    @blp.doc(security=[{"bearer": []}])
    def get(self, clinic_id, participant_id):
        require_participant(participant_id, scope="clinic.register", resource=clinic_id)
        clinic = _clinic_or_404(clinic_id)
        registration = _store().registration(clinic_id, participant_id)
        if registration is None:
            abort(404, message="this person is not registered for this clinic")
        confirmed = registration["status"] == CONFIRMED and clinic["status"] == "scheduled"
        return {"clinic": clinic_id, "participant": participant_id, "slot": registration["slot_id"],
                "status": registration["status"], "position": _store().position(registration),
                "interpretation": registration.get("interpretation"),
                # The owner (or staff) with a confirmed seat sees the link; nobody else ever does.
                "meeting_url": clinic.get("meeting_url") if confirmed else None}

    @blp.doc(security=[{"bearer": []}])
    def delete(self, clinic_id, participant_id):
        """Give the seat back; the first on the waitlist gets it at once."""
        require_participant(participant_id, scope="clinic.register", resource=clinic_id)
        _clinic_or_404(clinic_id)
        try:
            result = _store().unregister(clinic_id, participant_id)
        except NotFound as exc:
            abort(404, message=str(exc))
        except RegistrationRefused as exc:
            _refused(exc)
        return {"clinic": clinic_id, "participant": participant_id, **result}


@blp.route("/clinics/<clinic_id>/complete")
class Complete(MethodView):
    @blp.arguments(CompletionIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, clinic_id):
        """Record attendance and the recording (staff) -> session-completed."""
        require_staff()
        _clinic_or_404(clinic_id)
        try:
            clinic = _store().complete(clinic_id, data)
        except RegistrationRefused as exc:
            _refused(exc)
        return {**clinic_out(clinic), "attendees": clinic["attendees"], "recording_url": clinic["recording_url"],
                "recording_consent": clinic["recording_consent"]}


@blp.route("/clinics/<clinic_id>/feedback")
class Feedback(MethodView):
    @blp.arguments(FeedbackIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data, clinic_id):
        """Feedback from someone who attended, once -> feedback-submitted."""
        require_participant(data["participant"], scope="clinic.feedback", resource=clinic_id)
        _clinic_or_404(clinic_id)
        try:
            record = _store().give_feedback(clinic_id, data)
        except RegistrationRefused as exc:
            _refused(exc)
        return {"clinic": clinic_id, "participant": record["participant_id"], "useful": record["useful"],
                "rating": record["rating"]}, 201


# ----- calendars

def _zone(query) -> ZoneInfo | None:
    return ZoneInfo(query["tz"]) if query.get("tz") else None


def _ics(payload: bytes, name: str) -> Response:
    return Response(payload, mimetype=ICS, headers={"Content-Disposition": f'inline; filename="{name}"'})


def _base_url() -> str:
    settings = current_app.config["LC_SETTINGS"]
    return settings.service_url("scheduler")


@blp.route("/clinics/<clinic_id>.ics")
class ClinicCalendar(MethodView):
    @blp.arguments(CalendarQuery, location="query")
    @blp.response(200, content_type=ICS)
    def get(self, query, clinic_id):
        clinic = _clinic_or_404(clinic_id)
        tz = _zone(query)
        events = calendar.clinic_events(clinic, _store().now(), tz=tz, base_url=_base_url())
        return _ics(calendar.render(calendar.new_calendar(clinic["title"]), events, tz), f"clinic-{clinic_id}.ics")


def _matches(item: dict, query, languages_field: str) -> bool:
    if query.get("topic") and query["topic"] not in item["topics"]:
        return False
    if query.get("language"):
        languages = item[languages_field] if languages_field == "languages" else \
            [item["language"], *item.get("interpretation", [])]
        if query["language"] not in languages:
            return False
    return True


@blp.route("/calendar.ics")
class PublicCalendar(MethodView):
    @blp.arguments(CalendarQuery, location="query")
    @blp.response(200, content_type=ICS)
    def get(self, query):
        """Upcoming clinics and the movement's other learning spaces; filter by topic and language."""
        now = _store().now()
        tz = _zone(query)
        events = []
        for clinic in _store().clinics.find({"status": "scheduled", "slots.start": {"$gt": now}}).sort("first_start", 1):
            if _matches(clinic, query, "language"):
                events += calendar.clinic_events(clinic, now, tz=tz, base_url=_base_url())
        for space in _store().spaces.find({"start": {"$ne": None}}):
            if _matches(space, query, "languages") and (space.get("recurrence") or space["start"] > now):
                events.append(calendar.space_event({**space, "rrule": space.get("recurrence")}, now, tz))
        return _ics(calendar.render(calendar.new_calendar("Let's Connect learning calendar"), events, tz), "calendar.ics")


@blp.route("/participants/<participant_id>/calendar.ics")
class OwnCalendar(MethodView):
    @blp.arguments(FeedQuery, location="query")
    @blp.response(200, content_type=ICS)
    def get(self, query, participant_id):
        """A participant's own feed of confirmed clinics, with the meeting links. Calendar apps cannot
        send headers, so the participant's token goes in the query string."""
        require_participant(participant_id, scope="calendar.feed", staff_roles=(), token=query["token"])
        now = _store().now()
        tz = _zone(query)
        mine = {r["clinic_id"]: r["slot_id"] for r in _store().registrations.find(
            {"participant_id": participant_id, "status": CONFIRMED})}
        events = []
        for clinic in _store().clinics.find({"_id": {"$in": list(mine)}, "status": {"$ne": "cancelled"}}):
            events += calendar.clinic_events(clinic, now, tz=tz, meeting_url=clinic.get("meeting_url"),
                                             slot_ids={mine[clinic["_id"]]}, base_url=_base_url())
        return _ics(calendar.render(calendar.new_calendar("My Let's Connect clinics"), events, tz), "my-clinics.ics")


# ----- other learning spaces

def space_out(space: dict) -> dict:
    return {"id": space["_id"], **{k: space.get(k) for k in (
        "kind", "title", "description", "topics", "languages", "region", "link", "minutes", "recurrence")},
        "start": iso(space["start"]) if space.get("start") else None}


@blp.route("/spaces")
class Spaces(MethodView):
    @blp.arguments(SpaceIn)
    @blp.doc(security=[{"bearer": []}])
    def post(self, data):
        """Add a community of practice, periodic meeting, chat group or mentoring program (staff)."""
        require_staff()
        abort_unless_known(_store().known_topics, data["topics"])
        return space_out(_store().add_space(data)), 201

    @blp.arguments(SpaceQuery, location="query")
    def get(self, query):
        match: dict = {}
        for field, key in (("topic", "topics"), ("language", "languages"), ("kind", "kind"), ("region", "region")):
            if query[field]:
                match[key] = query[field]
        return {"items": [space_out(s) for s in _store().spaces.find(match).sort("title", 1).limit(500)], "next": None}
