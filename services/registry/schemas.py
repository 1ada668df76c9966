"""Request and response schemas of the registry API (marshmallow, served in the OpenAPI document)."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.events.fields import DIRECTIONS, GROUP_TYPES, LEVELS, PURPOSES, REGIONS, ROLES
from shared.validation import language_code, no_control_characters, single_line, time_zone

Text = lambda limit, **kw: fields.String(validate=[validate.Length(max=limit), no_control_characters], **kw)  # noqa: E731
Line = lambda limit, **kw: fields.String(validate=[validate.Length(min=1, max=limit), single_line], **kw)  # noqa: E731


class GroupIn(Schema):
    name = Line(200, required=True, metadata={"description": "The organised group's name"})
    type = fields.String(required=True, validate=validate.OneOf(GROUP_TYPES))


class InterestIn(Schema):
    topic = fields.String(required=True, validate=validate.Length(max=60),
                          metadata={"description": "A taxonomy topic code (GET /taxonomy)"})
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS))
    note = Text(2000, load_default=None, allow_none=True,
                metadata={"description": "What you want to learn, or the case study you can share"})
    level = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LEVELS))


class ConsentIn(Schema):
    public_profile = fields.Boolean(required=True, metadata={"description": "Appear in the public directory"})
    share_contact = fields.Boolean(required=True,
                                   metadata={"description": "Share your email with the people you are matched with"})
    recording = fields.Boolean(required=True, metadata={"description": "Agree to be recorded in clinics"})


def _unique_interests(interests):
    seen = set()
    for interest in interests or []:
        key = (interest["topic"], interest["direction"])
        if key in seen:
            raise ValidationError(f"{interest['topic']} ({interest['direction']}) is listed twice")
        seen.add(key)


class RegistrationIn(Schema):
    """POST /participants; PATCH takes any subset of it (without username; interests replace the list)."""

    username = Line(85, required=True, metadata={"description": "Meta-Wiki username"})
    name = Line(200, required=True, metadata={"description": "Display name, any script"})
    email = fields.Email(required=True, validate=validate.Length(max=254))
    languages = fields.List(fields.String(validate=language_code), required=True,
                            validate=validate.Length(min=1, max=10),
                            metadata={"description": "Language codes in order of preference"})
    timezone = fields.String(required=True, validate=time_zone,
                             metadata={"description": "IANA time zone, e.g. Africa/Cairo"})
    region = fields.String(required=True, validate=validate.OneOf(REGIONS))
    group = fields.Nested(GroupIn, required=True, allow_none=True,
                          metadata={"description": "Your organised group, or null"})
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    purpose = fields.String(required=True, validate=validate.OneOf(PURPOSES))
    activities = fields.List(Line(60), load_default=list, validate=validate.Length(max=20))
    interests = fields.List(fields.Nested(InterestIn), required=True,
                            validate=[validate.Length(min=1, max=30), _unique_interests])
    consent = fields.Nested(ConsentIn, required=True)

    @validates_schema
    def _no_duplicate_languages(self, data, **kwargs):
        languages = data.get("languages") or []
        if len(set(languages)) != len(languages):
            raise ValidationError({"languages": ["a language is listed twice"]})


class PatchIn(RegistrationIn):
    """PATCH /participants/{id}: any subset of the registration fields except username."""


def patch_schema() -> PatchIn:
    # Partial at the top level only: `partial=True` would reach into group, interests and consent,
    # letting {"group": {"name": "x"}} through to an event schema that refuses it (a 500).
    top_level = tuple(name for name in RegistrationIn._declared_fields if name != "username")
    return PatchIn(partial=top_level, exclude=("username",))


class EligibilityOut(Schema):
    eligible = fields.Boolean()
    reasons = fields.List(fields.Dict())
    alternatives = fields.List(fields.Dict())


class InterestOut(Schema):
    topic = fields.String()
    direction = fields.String()
    note = fields.String(allow_none=True)
    level = fields.String(allow_none=True)


class ParticipantOut(Schema):
    id = fields.String()
    revision = fields.Integer()
    username = fields.String()
    name = fields.String()
    email = fields.String()
    languages = fields.List(fields.String())
    timezone = fields.String()
    region = fields.String()
    group = fields.Dict(allow_none=True)
    role = fields.String()
    purpose = fields.String()
    activities = fields.List(fields.String())
    interests = fields.List(fields.Nested(InterestOut))
    consent = fields.Dict()
    registered_at = fields.String()
    updated_at = fields.String()


class RegisteredOut(ParticipantOut):
    token = fields.String(metadata={"description": "Keep it: it lets you manage your profile"})
    eligibility = fields.Nested(EligibilityOut)


class TokenOut(Schema):
    token = fields.String()
    tokens_valid_after = fields.String()


class DirectoryQuery(Schema):
    topic = fields.String(load_default=None)
    direction = fields.String(load_default=None, validate=validate.OneOf(DIRECTIONS))
    language = fields.String(load_default=None, validate=language_code)
    region = fields.String(load_default=None, validate=validate.OneOf(REGIONS))
    group_type = fields.String(load_default=None, validate=validate.OneOf(GROUP_TYPES))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(load_default=None)


class DirectoryEntry(Schema):
    id = fields.String()
    username = fields.String()
    name = fields.String()
    languages = fields.List(fields.String())
    region = fields.String()
    group = fields.Dict(allow_none=True)
    role = fields.String()
    interests = fields.List(fields.Nested(InterestOut))


class DirectoryPage(Schema):
    items = fields.List(fields.Nested(DirectoryEntry))
    next = fields.String(allow_none=True)


class TaxonomyQuery(Schema):
    lang = fields.String(load_default=None)


class TopicIn(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{2,59}$",
                                                                 error="lower-case letters, digits and dashes"))
    category = fields.String(required=True)
    labels = fields.Dict(keys=fields.String(validate=language_code), values=Line(200), required=True)
    hot = fields.Boolean(load_default=False)
    wikidata = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(r"^Q[1-9][0-9]*$"))

    @validates_schema
    def _english_label(self, data, **kwargs):
        if "en" not in data.get("labels", {}):
            raise ValidationError({"labels": ["an English label (en) is required"]})


class ImportQuery(Schema):
    mapping = fields.String(load_default=None, metadata={
        "description": 'JSON object mapping our column names to yours, e.g. {"email": "Email address"}'})
    delimiter = fields.String(load_default=None, validate=validate.Length(equal=1))



class SignInIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    audience = fields.String(load_default="participant", validate=validate.OneOf(("participant", "staff")),
                             metadata={"description": "participant, or staff (a named staff account's address)"})


class SignInOut(Schema):
    status = fields.String(metadata={"description": "always `requested`, registered address or not"})
    message = fields.String()


class SessionIn(Schema):
    token = fields.String(required=True, validate=validate.Length(min=1, max=4096),
                          metadata={"description": "the token of the emailed sign-in link"})


class SessionOut(Schema):
    token = fields.String(metadata={"description": "the participant's session token, or the staff token of a "
                                                   "staff sign-in link (keep it out of URLs)"})
    participant = fields.String(metadata={"description": "for a participant's link"})
    staff = fields.String(metadata={"description": "the staff account id, for a staff sign-in link"})
    roles = fields.List(fields.String(), metadata={"description": "the staff account's roles"})
    name = fields.String(allow_none=True)
    expires_at = fields.String()


STAFF_ROLE_NAMES = ("coordinator", "working_group", "ambassador", "translator")


class StaffIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF_ROLE_NAMES)), required=True,
                        validate=validate.Length(min=1, max=4))
    name = Line(200, load_default=None, allow_none=True)
    languages = fields.List(fields.String(validate=language_code), load_default=list, validate=validate.Length(max=10))


class StaffPatch(Schema):
    roles = fields.List(fields.String(validate=validate.OneOf(STAFF_ROLE_NAMES)),
                        validate=validate.Length(min=1, max=4))
    name = Line(200, allow_none=True)
    languages = fields.List(fields.String(validate=language_code), validate=validate.Length(max=10))


class StaffNamesOut(Schema):
    names = fields.Dict(keys=fields.String(), values=fields.String(),
                        metadata={"description": "staff account id -> name (accounts without a name are left out)"})


class StaffQuery(Schema):
    include_removed = fields.Boolean(load_default=False)


class StaffOut(Schema):
    id = fields.String()
    email = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    languages = fields.List(fields.String())
    roles = fields.List(fields.String())
    status = fields.String()
    revision = fields.Integer()
    created_at = fields.String(allow_none=True)
    updated_at = fields.String(allow_none=True)


class StaffList(Schema):
    items = fields.List(fields.Nested(StaffOut))


class ParticipantSearchQuery(DirectoryQuery):
    q = fields.String(load_default=None, validate=[validate.Length(min=1, max=100), no_control_characters],
                      metadata={"description": "the start of a username or name, or a whole email address"})
