"""The registration form <-> the registry's POST /participants: body, field errors, refusals."""
from services.portal.domain.registration import (
    ALTERNATIVES, REASONS, FieldError, field_errors, note_field, refusal, registration_body,
)
from services.registry.domain.eligibility import ALTERNATIVES as REGISTRY_ALTERNATIVES
from services.registry.domain.eligibility import REASONS as REGISTRY_REASONS
from services.registry.schemas import RegistrationIn

FILLED = {
    "username": ["Amina Example"], "name": ["أمينة"], "email": ["amina@example.org"],
    "languages": ["ar", "", "fr", "ar"], "timezone": ["Africa/Cairo"], "region": ["mena"],
    "group_name": ["Wikimedia Egypt"], "group_type": ["chapter"], "role": ["board"], "purpose": ["organising"],
    "activities": ["training", "events"], "learn": ["budget-development"], "share": ["fundraising", "governance"],
    "learn_note_budget-development": ["  how to plan a three-year budget "], "share_note_fundraising": [""],
    "consent_public_profile": ["on"], "consent_share_contact": ["on"],
}


def test_a_filled_form_becomes_exactly_the_body_the_registry_accepts():
    body = registration_body(FILLED)
    assert RegistrationIn().validate(body) == {}
    assert body["languages"] == ["ar", "fr"]  # order kept (the first is for email), blanks and repeats dropped
    assert body["group"] == {"name": "Wikimedia Egypt", "type": "chapter"}
    assert body["interests"] == [
        {"topic": "budget-development", "direction": "learn", "note": "how to plan a three-year budget"},
        {"topic": "fundraising", "direction": "share", "note": None},
        {"topic": "governance", "direction": "share", "note": None}]
    assert body["consent"] == {"public_profile": True, "share_contact": True, "recording": False}


def test_no_group_is_null_and_empty_fields_are_left_out_so_the_registry_names_them():
    body = registration_body({"group_type": [""], "group_name": [" "], "username": [""]})
    assert body["group"] is None
    assert "username" not in body and "email" not in body
    assert body["interests"] == [] and body["languages"] == []


def test_half_a_group_is_sent_so_that_the_missing_half_is_named():
    assert registration_body({"group_name": ["WikiWomen"]})["group"] == {"name": "WikiWomen", "type": ""}


def _errors_for(form):
    body = registration_body(form)
    return field_errors({"json": RegistrationIn().validate(body)}, body, form)


def test_every_registry_error_lands_next_to_its_own_form_field_in_words_a_person_can_act_on():
    form = {**FILLED, "email": ["not-an-email"], "timezone": ["Mars/Olympus"], "region": [""],
            "group_type": [""], "languages": [""], "learn": [], "share": [], "username": ["x" * 90]}
    errors = _errors_for(form)
    assert errors["email"] == [FieldError("Enter an email address such as name@example.org.")]
    assert errors["timezone"] == [FieldError("Choose a time zone from the list, for example Africa/Cairo.")]
    assert errors["region"] == [FieldError("Please choose one of the options.")]
    assert errors["group_type"] == [FieldError("Please choose one of the options.")]
    assert errors["languages"] == [FieldError("Choose at least your first language.")]
    assert errors["interests"] == [FieldError("Choose at least one topic to learn or to share.")]
    assert errors["username"] == [FieldError("This is too long: at most %(limit)s characters.", {"limit": "85"})]
    assert "form" not in errors


def test_a_bad_note_is_put_next_to_that_interest_note():
    form = {**FILLED, "learn_note_budget-development": ["bad \x07 bell"]}
    errors = _errors_for(form)
    assert list(errors) == [note_field("learn", "budget-development")]
    assert errors["learn_note_budget-development"][0].message.startswith("Remove the invisible control")


def test_missing_consent_and_a_taken_username_are_named():
    body = registration_body(FILLED)
    errors = field_errors({"json": {"username": ["already registered"],
                                    "consent": {"recording": ["Missing data for required field."]}}}, body, FILLED)
    assert errors["username"][0].message.startswith("This username is already registered")
    assert errors["consent_recording"] == [FieldError("Please fill this in.")]


def test_an_unknown_registry_message_is_still_shown_with_its_detail():
    errors = field_errors({"json": {"name": ["something new"]}}, {}, {"name": ["Amina"]})
    assert errors["name"] == [FieldError("This was not accepted: %(detail)s", {"detail": "something new"})]


def test_a_refusal_lists_every_unmet_criterion_and_where_to_learn_instead():
    verdict = {"eligible": False,
               "reasons": [{"code": c, "text": t} for c, t in REGISTRY_REASONS.items()],
               "alternatives": [*REGISTRY_ALTERNATIVES.values(),
                                {"code": "evil", "text": "x", "url": "javascript:alert(1)"}]}
    shown = refusal(verdict)
    assert shown.reasons == [REASONS[code] for code in REGISTRY_REASONS]
    assert [text for text, _ in shown.alternatives][:3] == [ALTERNATIVES[a["code"]] for a in
                                                             REGISTRY_ALTERNATIVES.values()]
    assert [link for _, link in shown.alternatives] == [a["url"] for a in REGISTRY_ALTERNATIVES.values()] + [None]


def test_the_portal_has_words_for_every_reason_the_registry_gives():
    assert set(REASONS) == set(REGISTRY_REASONS)
    assert set(ALTERNATIVES) == {a["code"] for a in REGISTRY_ALTERNATIVES.values()}
