"""HTTP request and response schemas (marshmallow; documented in /openapi.json)."""
from marshmallow import Schema, fields, validate

from services.notifier.domain.deliveries import STATUSES
from services.notifier.domain.preferences import ALWAYS_SENT, RESOURCE_MODES, SKIPPABLE


class PreferencesSchema(Schema):
    skip = fields.List(fields.String(validate=validate.OneOf(
        SKIPPABLE, error=f"one of {', '.join(SKIPPABLE)} ({', '.join(ALWAYS_SENT)} are always sent)")),
        load_default=list, metadata={"description": "categories of mail not to receive"})
    resources = fields.String(load_default="digest", validate=validate.OneOf(RESOURCE_MODES),
                              metadata={"description": "new resources on your topics: weekly digest or each one"})


class PreferencesOutSchema(PreferencesSchema):
    participant = fields.String()
    always_sent = fields.List(fields.String())


ID_LIMIT = 64
CURSOR_LIMIT = 512


class TokenQuerySchema(Schema):
    token = fields.String(load_default=None, metadata={"description": "the preferences link token of a mail"})


class UnsubscribeQuerySchema(TokenQuerySchema):
    category = fields.String(required=True, validate=validate.OneOf(SKIPPABLE))


class OneClickQuerySchema(Schema):
    category = fields.String(required=True, validate=validate.OneOf(SKIPPABLE))
    # no length rule: a malformed token of any length is a 401 from the one token check
    token = fields.String(required=True, metadata={"description": "the preferences link token of the mail"})


class NotificationQuerySchema(Schema):
    participant = fields.String(load_default=None, validate=validate.Length(min=1, max=ID_LIMIT))
    event_id = fields.String(load_default=None, validate=validate.Length(min=1, max=100))
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=CURSOR_LIMIT))


class AttemptSchema(Schema):
    attempt = fields.Integer()
    at = fields.DateTime()
    outcome = fields.String(metadata={"description": "sent | retry | failed | expired"})
    code = fields.Integer(allow_none=True, metadata={"description": "SMTP reply code"})
    error = fields.String(allow_none=True)
    retry_in_seconds = fields.Float()


class NotificationSchema(Schema):
    id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    participant = fields.String(allow_none=True)
    template = fields.String()
    category = fields.String()
    language = fields.String(allow_none=True)
    first_language = fields.String(allow_none=True)
    channel = fields.String()
    status = fields.String(metadata={"description": ", ".join(STATUSES)})
    attempts = fields.Integer()
    message_id = fields.String(allow_none=True)
    subject = fields.String(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    log = fields.List(fields.Nested(AttemptSchema))


class NotificationPageSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    next = fields.String(allow_none=True)


class TranslationQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(("open", "done")))
    language = fields.String(load_default=None, validate=validate.Length(min=2, max=20))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    cursor = fields.String(load_default=None, validate=validate.Length(min=1, max=CURSOR_LIMIT))


class TranslationRequestSchema(Schema):
    id = fields.String()
    kind = fields.String(metadata={"description": "translation (written) or interpretation (live, at start)"})
    subject_kind = fields.String()
    subject_id = fields.String()
    language = fields.String()
    source_language = fields.String()
    title = fields.String()
    url = fields.String(allow_none=True)
    requested_by = fields.String()
    start = fields.String(allow_none=True, metadata={"description": "an interpretation's start (UTC ISO 8601)"})
    minutes = fields.Integer(allow_none=True)
    status = fields.String()
    translators = fields.Integer(metadata={"description": "how many translators of the language were mailed"})
    created_at = fields.DateTime()
    done_at = fields.DateTime(allow_none=True)
    assigned_to = fields.String(allow_none=True, metadata={"description": "the staff account that took it"})
    assigned_at = fields.DateTime(allow_none=True)


class TranslationPageSchema(Schema):
    items = fields.List(fields.Nested(TranslationRequestSchema))
    next = fields.String(allow_none=True)
