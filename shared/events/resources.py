"""Events the resources service produces (translation-requested may come from any service)."""
from marshmallow import Schema, fields, validate

from shared.events.fields import Id, Lang

KINDS = ("recording", "deck", "guideline", "document", "reference", "case_study")


class ResourcePublishedSchema(Schema):
    resource_id = Id(required=True)
    title = fields.String(required=True)
    description = fields.String(load_default="")
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    url = fields.String(required=True)
    language = Lang(required=True)
    topics = fields.List(fields.String(), required=True)
    clinic_id = Id(load_default=None, allow_none=True)
    authors = fields.List(fields.String(), load_default=list)
    license = fields.String(required=True)
    published_at = fields.String(required=True)


class TranslationRequestedSchema(Schema):
    """Translators of `language` are asked for a written translation (a resource, a message template)
    or, with kind `interpretation`, to interpret live (a clinic, a connection) at `start` for `minutes`."""

    request_id = Id(required=True)
    kind = fields.String(load_default="translation", validate=validate.OneOf(("translation", "interpretation")))
    subject_kind = fields.String(required=True,
                                 validate=validate.OneOf(("resource", "template", "clinic", "connection")))
    subject_id = fields.String(required=True)
    language = Lang(required=True)
    source_language = Lang(load_default="en")
    title = fields.String(required=True)
    url = fields.String(load_default=None, allow_none=True)
    requested_by = fields.String(required=True)
    start = fields.String(load_default=None, allow_none=True)
    minutes = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(min=1, max=24 * 60))


EVENTS = {
    "resource-published": (1, ResourcePublishedSchema, "resource_id"),
    "translation-requested": (1, TranslationRequestedSchema, "request_id"),
}
