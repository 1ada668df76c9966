"""The registration form and the registry's POST /participants, in both directions.

The form's field names are the API's JSON field names (`username`, `languages`, ...), with three
flattenings a form needs: `group_name` + `group_type` for `group`, checkboxes `learn` and `share`
(values: topic codes) for `interests`, a note per interest `learn_note_<topic>` /
`share_note_<topic>`, and `consent_<name>` checkboxes for `consent`. The registry is the judge of
what is valid; this module builds its body and puts each of its answers next to the right field,
in words a person can act on.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from services.portal.domain import N_

SINGLE_FIELDS = ("username", "name", "email", "timezone", "region", "role", "purpose")
CONSENTS = ("public_profile", "share_contact", "recording")
DIRECTIONS = ("learn", "share")
CHECKED = ("on", "true", "1", "yes")

Form = Mapping[str, Sequence[str]]


def note_field(direction: str, topic: str) -> str:
    return f"{direction}_note_{topic}"


def _first(form: Form, name: str) -> str:
    values = form.get(name) or [""]
    return (values[0] or "").strip()


def _unique(values: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        value = (value or "").strip()
        if value and value not in seen:
            seen.append(value)
    return seen


def registration_body(form: Form) -> dict:
    """The POST /participants body. Empty fields are left out, so the registry names each as missing."""
    body: dict = {}
    for name in SINGLE_FIELDS:
        value = _first(form, name)
        if value:
            body[name] = value
    body["languages"] = _unique(form.get("languages", []))  # in the order given: the first is for email
    group_name, group_type = _first(form, "group_name"), _first(form, "group_type")
    body["group"] = {"name": group_name, "type": group_type} if (group_name or group_type) else None
    body["activities"] = _unique(form.get("activities", []))
    body["interests"] = [
        {"topic": topic, "direction": direction, "note": _first(form, note_field(direction, topic)) or None}
        for direction in DIRECTIONS for topic in _unique(form.get(direction, []))]
    body["consent"] = {name: _first(form, f"consent_{name}").lower() in CHECKED for name in CONSENTS}
    return body


@dataclass(frozen=True)
class FieldError:
    message: str                              # an English message id, translated where it is shown
    params: dict = field(default_factory=dict)  # values for its %(name)s placeholders


# What the registry says (marshmallow's and its own validators' English) -> what the person reads.
_LENGTH = re.compile(r"Length must be between (\d+) and (\d+)\.|Longer than maximum length (\d+)\.")
_REQUIRED = "Missing data for required field."
FILL_IN = N_("Please fill this in.")
CHOOSE_ONE = N_("Please choose one of the options.")
_CHOICE_FIELDS = ("region", "role", "purpose", "group_type", "timezone")
_SPECIFIC = (
    ("Not a valid email address.", N_("Enter an email address such as name@example.org.")),
    ("unknown time zone", N_("Choose a time zone from the list, for example Africa/Cairo.")),
    ("Must be one of", CHOOSE_ONE),
    ("must be a single line", N_("Write this on a single line.")),
    ("contains control characters", N_("Remove the invisible control characters from this text.")),
    ("unknown language code", N_("Choose your languages from the list.")),
    ("a language is listed twice", N_("A language is listed twice.")),
    ("unknown topic", N_("A topic you chose is no longer offered: reload the page and choose again.")),
    ("is listed twice", N_("A topic is listed twice.")),
    ("already registered", N_("This username is already registered. If it is yours, you are already in the "
                              "program: look for our welcome email.")),
)


def _message(form_field: str, api_message: str, submitted: str) -> FieldError:
    if api_message == _REQUIRED or (_LENGTH.match(api_message) and not submitted):
        if form_field == "languages":
            return FieldError(N_("Choose at least your first language."))
        if form_field == "interests":
            return FieldError(N_("Choose at least one topic to learn or to share."))
        return FieldError(CHOOSE_ONE if form_field in _CHOICE_FIELDS else FILL_IN)
    if form_field == "interests" and _LENGTH.match(api_message):
        return FieldError(N_("Choose at most %(limit)s topics."), {"limit": _LENGTH.match(api_message).group(2)})
    if form_field == "languages" and _LENGTH.match(api_message):
        return FieldError(N_("Choose at most %(limit)s languages."), {"limit": _LENGTH.match(api_message).group(2)})
    length = _LENGTH.match(api_message)
    if length:
        return FieldError(N_("This is too long: at most %(limit)s characters."),
                          {"limit": length.group(2) or length.group(3)})
    for fragment, message in _SPECIFIC:
        if fragment in api_message:
            return FieldError(message)
    return FieldError(N_("This was not accepted: %(detail)s"), {"detail": api_message})


def _flatten(errors, path=()):
    """{"group": {"name": ["..."]}} -> [(("group", "name"), "...")]."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, path + (str(key),))
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, (dict, list)):
                yield from _flatten(item, path)
            else:
                yield path, str(item)
    else:
        yield path, str(errors)


def _form_field(path: tuple[str, ...], body: dict) -> str:
    head = path[0] if path else "form"
    if head == "group":
        return "group_type" if path[1:2] == ("type",) else "group_name"
    if head == "consent" and len(path) > 1:
        return f"consent_{path[1]}"
    if head == "interests" and len(path) > 2 and path[2] == "note":
        try:
            interest = body["interests"][int(path[1])]
        except (IndexError, ValueError, KeyError, TypeError):
            return "interests"
        return note_field(interest["direction"], interest["topic"])
    if head in SINGLE_FIELDS or head in ("languages", "activities", "interests"):
        return head
    return "form"


def _submitted(form_field: str, form: Form) -> str:
    return " ".join(v for v in form.get(form_field, []) if v).strip()


def field_errors(api_errors: dict, body: dict, form: Form) -> dict[str, list[FieldError]]:
    """The registry's 422/409 `errors` ({"json": {...}}) as {form field: [FieldError]}, one message per
    field and kind (a list of five bad notes gives each note its own message)."""
    located: dict[str, list[FieldError]] = {}
    errors = api_errors.get("json", api_errors) if isinstance(api_errors, dict) else {"form": api_errors}
    for path, message in _flatten(errors):
        name = _form_field(path, body)
        error = _message(name, message, _submitted(name, form))
        if error not in located.setdefault(name, []):
            located[name].append(error)
    return located


# The program's eligibility checklist, in the registry's reason codes (services/registry/eligibility.py).
REASONS = {
    "no_organised_group": N_(
        "You are not part of an organised group. Let's Connect is for Wikimedians in a chapter, thematic "
        "organisation, user group or unrecognised group that plans and carries out Wikimedia work together."),
    "no_organiser_role": N_(
        "You have no role in your group. Participants volunteer, serve on the core team or board, work as "
        "staff, or at least actively contribute to the organisation."),
    "own_editing_only": N_(
        "You want to learn only for your own editing. Let's Connect is for skills that benefit wider groups: "
        "organising, planning, events, evaluation, or training others."),
}
ALTERNATIVES = {
    "join_a_group": N_(
        "Join or start a group near you: the movement's affiliates (chapters, user groups, thematic "
        "organisations) welcome volunteers, and you can apply to Let's Connect as part of one."),
    "take_a_role": N_(
        "Talk with your group about helping to organise (events, trainings, planning); once you do, you are "
        "welcome to apply."),
    "learn_editing": N_(
        "To build editing skills for your own contributions, start with the help pages and tutorials of your "
        "wiki, and the trainings your local affiliate or user group runs for newcomers."),
}


@dataclass(frozen=True)
class Refusal:
    reasons: list[str]                        # message ids, one per unmet criterion
    alternatives: list[tuple[str, str | None]]  # (message id, link) where to learn instead


def _safe_link(url) -> str | None:
    return url if isinstance(url, str) and re.match(r"^https?://[^\s<>\"]+$", url) else None


def refusal(eligibility: dict) -> Refusal:
    """The registry's verdict in the page's words: every unmet criterion, and where to learn instead.
    A reason the portal has no words for yet is shown in the registry's own (English) text."""
    reasons = [REASONS.get(r.get("code"), r.get("text", "")) for r in eligibility.get("reasons", [])]
    alternatives = [(ALTERNATIVES.get(a.get("code"), a.get("text", "")), _safe_link(a.get("url")))
                    for a in eligibility.get("alternatives", [])]
    return Refusal([r for r in reasons if r], [a for a in alternatives if a[0]])
