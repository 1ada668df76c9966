import pytest

from services.notifier.domain.parking import awaited_contacts
from services.notifier.domain.planning import Planned, plan, registration_template
from tests.unit.notifier.samples import EVENTS


@pytest.mark.parametrize("status, reason, template", [
    ("confirmed", "registered", "clinic_confirmed"),
    ("waitlisted", "registered", "clinic_waitlisted"),
    ("confirmed", "promoted", "clinic_promoted"),
    ("confirmed", "clinic_updated", "clinic_changed"),
    ("waitlisted", "clinic_updated", "clinic_changed"),
    ("cancelled", "clinic_cancelled", "clinic_cancelled"),
    ("cancelled", "cancelled_by_participant", "clinic_registration_cancelled"),
])
def test_registration_changes_pick_their_message(status, reason, template):
    assert registration_template(status, reason) == template


def test_a_match_tells_every_member():
    event_type, data = EVENTS["match_proposal"]
    assert plan(event_type, data) == [Planned("match_proposal", "p1"), Planned("match_proposal", "p2")]
    assert [p.template for p in plan("match-confirmed", data)] == ["match_introduction"] * 2


def test_a_connection_message_waits_for_every_named_contact():
    event_type, data = EVENTS["match_introduction"]
    envelope = {"type": event_type, "data": data}
    to_p1 = Planned("match_introduction", "p1")
    assert awaited_contacts(envelope, to_p1, {}) == ["p1", "p2"]
    assert awaited_contacts(envelope, to_p1, {"p1": {}}) == ["p2"]  # the partner's registration is late
    assert awaited_contacts(envelope, to_p1, {"p1": {}, "p2": {"withdrawn": True}}) == []


def test_other_messages_wait_only_for_their_recipient():
    event_type, data = EVENTS["clinic_confirmed"]
    envelope = {"type": event_type, "data": data}
    assert awaited_contacts(envelope, Planned("clinic_confirmed", "p1"), {}) == ["p1"]
    assert awaited_contacts(envelope, Planned("translation_request", address="t@example.org"), {}) == []


def test_a_decline_tells_the_others_and_an_expiry_tells_everyone():
    _, data = EVENTS["match_declined"]
    assert plan("match-declined", data) == [Planned("match_declined", "p1")]
    assert len(plan("match-declined", {**data, "cause": "expired"})) == 2


def test_feedback_requests_go_to_each_attendee_once():
    _, data = EVENTS["feedback_request"]
    planned = plan("session-completed", {**data, "attendees": ["a", "b", "a"]})
    assert [p.participant_id for p in planned] == ["a", "b"]


def test_translation_requests_go_to_the_translators_of_that_language():
    _, data = EVENTS["translation_request"]
    translators = {"ar": ("a@x.org", "b@x.org"), "fr": ("c@x.org",)}
    assert [p.address for p in plan("translation-requested", data, translators)] == ["a@x.org", "b@x.org"]
    assert plan("translation-requested", {**data, "language": "de"}, translators) == []
    assert [p.address for p in plan("translation-requested", {**data, "language": "fr-CA"}, translators)] == ["c@x.org"]


def test_only_a_clinic_session_asks_interpreters_to_answer_at_the_portal():
    _, session = EVENTS["interpreter_request"]
    translators = {"ar": ("a@x.org",)}
    assert [p.template for p in plan("translation-requested", session, translators)] == ["interpreter_request"]
    # a connection's interpretation help has no session time: it joins the translators' queue
    conversation = {**session, "subject_kind": "connection", "subject_id": "m1", "start": None, "minutes": None}
    assert [p.template for p in plan("translation-requested", conversation, translators)] == ["translation_request"]


def test_events_without_a_message_plan_nothing():
    assert plan("match-accepted", {}) == [] and plan("feedback-submitted", {}) == []


def test_categories_follow_the_template():
    assert Planned("clinic_reminder", "p").category == "reminders"
    assert Planned("clinic_cancelled", "p").category == "schedule"


def test_a_learner_who_joins_an_open_connection_is_asked_and_a_self_made_one_is_confirmed_by_the_others():
    _, data = EVENTS["match_proposal"]
    assert plan("match-joined", {**data, "participant_id": "p3"}) == [Planned("match_proposal", "p3")]
    assert plan("connection-proposed", {**data, "created_by": "p1"}) == [Planned("connection_confirm", "p2")]
    assert Planned("connection_confirm", "p2").category == "introductions"
