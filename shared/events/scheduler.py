"""Events the scheduler produces; every one is keyed by the clinic id."""
from marshmallow import Schema, fields, validate

from shared.events.fields import Id, Lang, SlotSchema

KINDS = ("monthly", "quarterly")


class ClinicSchema(Schema):
    clinic_id = Id(required=True)
    revision = fields.Integer(load_default=1)
    change = fields.String(load_default="created", validate=validate.OneOf(("created", "updated", "cancelled")))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    description = fields.String(load_default="")
    topics = fields.List(fields.String(), required=True)
    sharers = fields.List(Id(), load_default=list)
    slots = fields.List(fields.Nested(SlotSchema), required=True, validate=validate.Length(min=1, max=2))
    language = Lang(required=True)
    interpretation = fields.List(Lang(), load_default=list)
    region = fields.String(load_default=None, allow_none=True)
    theme = fields.String(load_default=None, allow_none=True)


class ClinicInvitedSchema(Schema):
    clinic_id = Id(required=True)
    participant_id = Id(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    topics = fields.List(fields.String(), required=True)
    slots = fields.List(fields.Nested(SlotSchema), required=True)
    language = Lang(required=True)
    interpretation = fields.List(Lang(), load_default=list)
    reason = fields.String(load_default=None, allow_none=True)


REGISTRATION_STATUSES = ("confirmed", "waitlisted", "cancelled")
CHANGE_REASONS = ("registered", "cancelled_by_participant", "promoted", "clinic_updated", "clinic_cancelled")


class RegistrationChangedSchema(Schema):
    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    participant_id = Id(required=True)
    status = fields.String(required=True, validate=validate.OneOf(REGISTRATION_STATUSES))
    reason = fields.String(required=True, validate=validate.OneOf(CHANGE_REASONS))
    position = fields.Integer(load_default=None, allow_none=True)
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)
    language = Lang(required=True)
    interpretation = Lang(load_default=None, allow_none=True)
    meeting_url = fields.String(load_default=None, allow_none=True)


class ClinicReminderSchema(Schema):
    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    participant_id = Id(required=True)
    lead = fields.String(required=True, validate=validate.OneOf(("24h", "1h")))
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)
    language = Lang(required=True)
    meeting_url = fields.String(load_default=None, allow_none=True)


RECORDING_BASES = ("every_attendee_consented", "staff_confirmed_unconsented_not_recorded")


class SessionCompletedSchema(Schema):
    """A clinic was held. `recording_consent` is true only when the recording may be published now:
    every attendee's own consent.recording (from the registry) was yes, the basis named in
    `recording_consent_basis`. When someone did not consent, `recording_pending` is true and the
    recording waits for staff to confirm those people were not recorded (clinic-recording-cleared)."""

    clinic_id = Id(required=True)
    title = fields.String(required=True)
    kind = fields.String(load_default="monthly", validate=validate.OneOf(KINDS))
    topics = fields.List(fields.String(), required=True)
    language = Lang(required=True)
    sharers = fields.List(Id(), load_default=list)
    attendees = fields.List(Id(), required=True)
    recording_url = fields.String(load_default=None, allow_none=True)
    recording_consent = fields.Boolean(required=True)
    recording_consent_basis = fields.String(load_default=None, allow_none=True,
                                            validate=validate.OneOf(RECORDING_BASES))
    recording_pending = fields.Boolean(load_default=False)
    completed_at = fields.String(required=True)


class RecordingClearedSchema(Schema):
    """Staff confirmed that the attendees who did not consent to recording were not recorded: the
    recording of a completed clinic may now be published (the resource names this basis)."""

    clinic_id = Id(required=True)
    title = fields.String(required=True)
    kind = fields.String(load_default="monthly", validate=validate.OneOf(KINDS))
    topics = fields.List(fields.String(), required=True)
    language = Lang(required=True)
    recording_url = fields.String(required=True)
    recording_consent_basis = fields.String(required=True, validate=validate.OneOf(RECORDING_BASES))
    not_recorded = fields.List(Id(), required=True, metadata={"description": "attendees confirmed not recorded"})
    confirmed_by = fields.String(required=True, metadata={"description": "the staff account that confirmed"})
    confirmed_at = fields.String(required=True)


class FeedbackSubmittedSchema(Schema):
    clinic_id = Id(required=True)
    participant_id = Id(required=True)
    useful = fields.Boolean(required=True)
    rating = fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = fields.String(load_default="")
    what_was_useful = fields.String(load_default="", metadata={"description": "follow-up question (pilot survey)"})
    what_to_improve = fields.String(load_default="", metadata={"description": "follow-up question (pilot survey)"})


PRESENTER_CHANGES = ("created", "updated", "cancelled", "removed")


class PresenterScheduledSchema(Schema):
    """To a sharer named on a clinic: scheduled (created), changed (updated), cancelled, or taken off
    it (removed). Their presenter place takes no seat; the meeting link is set unless cancelled or
    removed."""

    clinic_id = Id(required=True)
    participant_id = Id(required=True)
    change = fields.String(required=True, validate=validate.OneOf(PRESENTER_CHANGES))
    revision = fields.Integer(load_default=1)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    title = fields.String(required=True)
    description = fields.String(load_default="")
    topics = fields.List(fields.String(), required=True)
    slots = fields.List(fields.Nested(SlotSchema), required=True, validate=validate.Length(min=1, max=2))
    language = Lang(required=True)
    interpretation = fields.List(Lang(), load_default=list)
    meeting_url = fields.String(load_default=None, allow_none=True)


class TeamReminderSchema(Schema):
    """Shared fields of the reminders to a clinic's presenters and interpreters."""

    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    lead = fields.String(required=True, validate=validate.OneOf(("24h", "1h")))
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)
    language = Lang(required=True)
    meeting_url = fields.String(load_default=None, allow_none=True)


class PresenterReminderSchema(TeamReminderSchema):
    participant_id = Id(required=True)


INTERPRETER = {"description": "the interpreter: an opaque keyed hash of their LC_TRANSLATORS address "
                              "(shared.pseudonyms.translator_id), never the address"}


class InterpreterScheduledSchema(Schema):
    """To the interpreter who accepted a clinic's interpretation request: confirmed, the clinic
    changed (updated), cancelled, or they withdrew (withdrawn). The link is set while confirmed."""

    request_id = Id(required=True)
    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    interpreter = fields.String(required=True, metadata=INTERPRETER)
    change = fields.String(required=True, validate=validate.OneOf(("confirmed", "updated", "cancelled",
                                                                   "withdrawn")))
    language = Lang(required=True, metadata={"description": "the language interpreted into"})
    source_language = Lang(required=True)
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)
    meeting_url = fields.String(load_default=None, allow_none=True)


class InterpreterReminderSchema(TeamReminderSchema):
    request_id = Id(required=True)
    interpreter = fields.String(required=True, metadata=INTERPRETER)
    source_language = Lang(required=True)
    interpretation = Lang(required=True, metadata={"description": "the language interpreted into"})


MISSING_REASONS = ("no_translator_configured", "all_declined", "no_answer")


class InterpretationMissingSchema(Schema):
    """To the program team (the notifier's configured address list), once per slot and language:
    a clinic's interpretation into `language` has no confirmed interpreter this close to the start."""

    request_id = Id(required=True)
    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    language = Lang(required=True)
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)
    reason = fields.String(required=True, validate=validate.OneOf(MISSING_REASONS))
    asked = fields.Integer(required=True, metadata={"description": "translators asked"})
    declined = fields.Integer(required=True)
    attendees = fields.Integer(required=True, metadata={"description": "registrations that chose this language"})


class InterpretationUnavailableSchema(Schema):
    """To a registered person who chose `interpretation` for their slot, when no interpreter into it
    is confirmed in time: they can still attend in the clinic's language, or give the seat back."""

    clinic_id = Id(required=True)
    slot_id = Id(required=True)
    participant_id = Id(required=True)
    interpretation = Lang(required=True)
    language = Lang(required=True, metadata={"description": "the clinic's own language"})
    title = fields.String(required=True)
    start = fields.DateTime(required=True, format="iso")
    minutes = fields.Integer(required=True)


EVENTS = {
    "clinic-scheduled": (1, ClinicSchema, "clinic_id"),
    "clinic-invited": (1, ClinicInvitedSchema, "clinic_id"),
    "clinic-registration-changed": (1, RegistrationChangedSchema, "clinic_id"),
    "clinic-reminder": (1, ClinicReminderSchema, "clinic_id"),
    "session-completed": (1, SessionCompletedSchema, "clinic_id"),
    "feedback-submitted": (1, FeedbackSubmittedSchema, "clinic_id"),
    "clinic-recording-cleared": (1, RecordingClearedSchema, "clinic_id"),
    "presenter-scheduled": (1, PresenterScheduledSchema, "clinic_id"),
    "presenter-reminder": (1, PresenterReminderSchema, "clinic_id"),
    "interpreter-scheduled": (1, InterpreterScheduledSchema, "clinic_id"),
    "interpreter-reminder": (1, InterpreterReminderSchema, "clinic_id"),
    "interpretation-missing": (1, InterpretationMissingSchema, "clinic_id"),
    "interpretation-unavailable": (1, InterpretationUnavailableSchema, "clinic_id"),
}
