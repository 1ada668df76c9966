"""A signed-in person's own pages, and the pages an email link opens: pure decisions.

- The profile form is the registration form filled from the registry's profile
  (`profile_form`), and sent back as a PATCH body (`update_body`: everything but the username,
  which is permanent).
- Which token a page acts with (`Access`): a link token of exactly the page's scope and resource
  (the one the email carried), else the person's session. A link for another page or another
  thing is refused here, before any service is asked.
- A proposal's reasons in the reader's words (`reason_words`), from the matcher's reason codes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from services.portal.domain import N_
from services.portal.domain.registration import CONSENTS, DIRECTIONS, Form, note_field, registration_body

SINGLE_PROFILE_FIELDS = ("username", "name", "email", "timezone", "region", "role", "purpose")


def profile_form(profile: dict) -> dict[str, list[str]]:
    """The registry's profile as the registration form's fields (the inverse of registration_body)."""
    form: dict[str, list[str]] = {name: [str(profile.get(name) or "")] for name in SINGLE_PROFILE_FIELDS}
    form["languages"] = list(profile.get("languages") or [])
    group = profile.get("group") or {}
    form["group_name"] = [group.get("name") or ""]
    form["group_type"] = [group.get("type") or ""]
    form["activities"] = list(profile.get("activities") or [])
    for direction in DIRECTIONS:
        form[direction] = []
    for interest in profile.get("interests") or []:
        direction, topic = interest.get("direction"), interest.get("topic")
        if direction in DIRECTIONS and topic:
            form[direction].append(topic)
            if interest.get("note"):
                form[note_field(direction, topic)] = [interest["note"]]
    consent = profile.get("consent") or {}
    for name in CONSENTS:
        form[f"consent_{name}"] = ["on"] if consent.get(name) else []
    return form


def update_body(form: Form) -> dict:
    """The PATCH /participants/{id} body: the whole registration but the username (permanent)."""
    body = registration_body(form)
    body.pop("username", None)
    return body


# ----- which token a page acts with

SESSION, LINK = "session", "link"


@dataclass(frozen=True)
class Bearer:
    """A verified token the portal may present for this person: theirs alone."""
    kind: str                 # "participant" (a session) or "link"
    participant: str
    scope: str | None = None
    resource: str | None = None


@dataclass(frozen=True)
class Access:
    token: str
    participant: str
    via: str                  # SESSION or LINK


def choose_access(page_scopes: tuple[str, ...], resource: str | None,
                  link: tuple[str, Bearer] | None, session: tuple[str, Bearer] | None) -> Access | None:
    """The link's token when it is for one of this page's scopes on this very resource; else the
    person's session; else None (the page asks them to sign in or to use their email's link)."""
    if link is not None:
        token, bearer = link
        if bearer.kind == "link" and bearer.scope in page_scopes and (resource is None or bearer.resource == resource):
            return Access(token, bearer.participant, LINK)
    if session is not None:
        token, bearer = session
        if bearer.kind == "participant":
            return Access(token, bearer.participant, SESSION)
    return None


# ----- a proposal's reasons

def reason_words(codes: list[str]) -> list[tuple[str, dict]]:
    """The matcher's reason codes as (message id, values) for the reader's language; codes the portal
    has no words for are left out (the page shows the matcher's English sentence then)."""
    words: list[tuple[str, dict]] = []
    for code in codes or []:
        kind, _, value = code.partition(":")
        if kind == "language" and value:
            words.append((N_("You both speak %(language)s."), {"language": value}))
        elif kind == "overlap" and value.isdigit():
            hours, minutes = divmod(int(value), 60)
            words.append((N_("Your working days overlap by %(hours)s h %(minutes)s min."),
                          {"hours": hours, "minutes": f"{minutes:02d}"}))
        elif kind == "topic" and value:
            words.append((N_("One of you can share what the other wants to learn: %(topic)s."), {"topic": value}))
        elif code == "first_language_both":
            words.append((N_("It is the first language of both of you."), {}))
        elif code == "long_wait":
            words.append((N_("You have been waiting for a while."), {}))
        elif code == "rare_sharer":
            words.append((N_("It gives space to a sharer from a region we rarely hear from."), {}))
        elif code == "same_region":
            words.append((N_("You work in the same region."), {}))
    return words


def my_role(match: dict, participant: str) -> dict | None:
    """This person's place in a match (role, response), or None when it is not theirs."""
    return next((m for m in match.get("participants", []) if m.get("id") == participant), None)


def meeting_start(value: str, zone: str) -> str | None:
    """A <input type=datetime-local> value ("2026-12-10T15:30"), read in the viewer's zone, as UTC ISO 8601;
    None when empty or not a time."""
    try:
        local = datetime.strptime((value or "").strip()[:16], "%Y-%m-%dT%H:%M")
        return local.replace(tzinfo=ZoneInfo(zone)).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    except (ValueError, KeyError):
        return None
