"""Request schemas of the resources API."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events.resources import KINDS
from shared.validation import language_code, no_control_characters, safe_url, single_line

from services.resources.domain.resources import recording_consent_missing

LICENCES = ("CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0", "CC-BY-SA-3.0", "CC-BY-3.0", "CC-BY-NC-SA-4.0",
            "GFDL-1.3-or-later", "MIT", "Apache-2.0", "GPL-3.0-or-later", "public-domain")


class ResourceIn(Schema):
    title = fields.String(required=True, validate=[validate.Length(min=1, max=300), single_line])
    description = fields.String(load_default="", validate=[validate.Length(max=5000), no_control_characters])
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    url = fields.String(required=True, validate=[validate.Length(max=2000), safe_url])
    language = fields.String(required=True, validate=language_code)
    topics = fields.List(fields.String(validate=validate.Length(min=1, max=80)), required=True,
                         validate=validate.Length(min=1, max=10),
                         metadata={"description": "codes of GET /taxonomy on the registry"})
    clinic = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))
    authors = fields.List(fields.String(validate=[validate.Length(min=1, max=200), single_line]),
                          load_default=list, validate=validate.Length(max=30))
    license = fields.String(load_default="CC-BY-SA-4.0", validate=validate.OneOf(LICENCES))
    consent = fields.Boolean(load_default=False, metadata={
        "description": "for recordings: everyone recorded agreed to publication (required)"})

    @validates_schema
    def _recordings_need_consent(self, data, partial=False, **kwargs):
        if recording_consent_missing(data.get("kind"), data.get("consent")):
            raise ValidationError({"consent": ["a recording is published only when everyone recorded consented"]})


class ResourcePatch(ResourceIn):
    pass


class SearchQuery(Schema):
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    topic = fields.String(load_default=None)
    language = fields.String(load_default=None)
    kind = fields.String(load_default=None, validate=validate.OneOf(KINDS))
    clinic = fields.String(load_default=None)
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None)


class TranslationIn(Schema):
    language = fields.String(required=True, validate=language_code)
    title = fields.String(required=True, validate=[validate.Length(min=1, max=300), single_line])
    url = fields.String(required=True, validate=[validate.Length(max=2000), safe_url])


class TranslationRequestIn(Schema):
    languages = fields.List(fields.String(validate=language_code), required=True,
                            validate=validate.Length(min=1, max=20))


class HideIn(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=3, max=500), no_control_characters],
                           metadata={"description": "why it leaves the public lists (kept for staff, audited)"})
