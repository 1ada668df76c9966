"""What goes into each message: its template values, its links and its attachments.

Pure functions of the event, the recipient's contact and what the notifier knows (other people's
contacts, a clinic's resources); nothing here reads a database or opens a connection.

Every link a person follows lands on the portal (LC_PORTAL_URL) and carries a link token for
exactly that action on that thing (shared.tokens.SCOPES), never the person's session token:

| message | link | scope (resource) |
|---|---|---|
| welcome | {portal}/me, {portal}/sign-in | none |
| sign_in | {portal}/sign-in/complete?token= (staff: /staff/sign-in/complete) | signin (the request) |
| match_proposal | {portal}/matches/<id>?token= | match.respond (the match) |
| match_introduction, connection_thanks | {portal}/matches/<id>?token= | match.outcome (the match) |
| connection_confirm | {portal}/connections/<id>?token= | connection.confirm (the connection) |
| clinic invitation, seat changes, reminder | {portal}/clinics/<id>?token= | clinic.register (the clinic) |
| feedback_request | {portal}/clinics/<id>/feedback?token= | clinic.feedback (the clinic) |
| resource_new, resource_digest, feedback's material | {portal}/resources/<id> | none |
| translation_request | {portal}/staff/translations | none (staff sign in) |
| every footer | {portal}/preferences?token= (and &unsubscribe=<category>) | preferences (the person) |

The List-Unsubscribe header is the notifier's own {notifier}/unsubscribe (RFC 8058 POST).
Links to things outside the platform stay as they are: a clinic's meeting, a session's recording.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import quote, urlencode, urlsplit

from shared.config import Settings
from shared.pseudonyms import translator_id
from shared.tokens import epoch, issue_link_token

from services.notifier.domain import calendar
from services.notifier.domain.compose import Attachment
from services.notifier.domain.preferences import unsubscribable


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str | None = None
    languages: tuple[str, ...] = ("en",)
    timezone: str = "UTC"
    participant_id: str | None = None
    staff_id: str | None = None

    @classmethod
    def from_contact(cls, contact: dict) -> "Recipient":
        return cls(address=contact["email"], name=contact.get("name"), languages=tuple(contact.get("languages") or ("en",)),
                   timezone=contact.get("timezone") or "UTC", participant_id=contact["_id"])

    @classmethod
    def from_staff(cls, contact: dict, language: str | None = None) -> "Recipient":
        languages = tuple(dict.fromkeys(([language] if language else []) + list(contact.get("languages") or [])))
        return cls(address=contact["email"], name=contact.get("name"), languages=languages or ("en",),
                   staff_id=contact["_id"])


@dataclass
class MessageParts:
    context: dict
    attachments: tuple[Attachment, ...] = ()
    unsubscribe_url: str | None = None
    headers: dict = field(default_factory=dict)


def _path(segment: str) -> str:
    return quote(segment, safe="")


class Links:
    """Every link a message carries (see the table above)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._tokens: dict[tuple, str] = {}  # one token per action in a message

    def portal(self, path: str, **query) -> str:
        query = {k: v for k, v in query.items() if v is not None}
        base = f"{self.settings.portal_url}{path}"
        return f"{base}?{urlencode(query)}" if query else base

    def token(self, subject: str, scope: str, resource: str, expires_at: str | None = None) -> str:
        key = (subject, scope, resource, expires_at)
        if key not in self._tokens:
            self._tokens[key] = issue_link_token(self.settings, subject, scope, resource, expires_at=epoch(expires_at))
        return self._tokens[key]

    def match(self, match_id: str, pid: str, scope: str, expires_at: str | None = None) -> str:
        return self.portal(f"/matches/{_path(match_id)}", token=self.token(pid, scope, match_id, expires_at))

    def connection(self, connection_id: str, pid: str) -> str:
        return self.portal(f"/connections/{_path(connection_id)}",
                           token=self.token(pid, "connection.confirm", connection_id))

    def clinic(self, clinic_id: str, pid: str) -> str:
        return self.portal(f"/clinics/{_path(clinic_id)}", token=self.token(pid, "clinic.register", clinic_id))

    def feedback(self, clinic_id: str, pid: str) -> str:
        return self.portal(f"/clinics/{_path(clinic_id)}/feedback",
                           token=self.token(pid, "clinic.feedback", clinic_id))

    def resource(self, resource_id: str) -> str:
        return self.portal(f"/resources/{_path(resource_id)}")

    def sign_in(self, request_id: str, subject: str, staff: bool, expires_at: str) -> str:
        path = "/staff/sign-in/complete" if staff else "/sign-in/complete"
        return self.portal(path, token=self.token(subject, "signin", request_id, expires_at))

    def preferences(self, pid: str, unsubscribe: str | None = None) -> str:
        return self.portal("/preferences", token=self.token(pid, "preferences", pid), unsubscribe=unsubscribe)

    def unsubscribe(self, pid: str, category: str) -> str:
        """The List-Unsubscribe target (RFC 8058): POST unsubscribes, GET only asks to confirm."""
        base = self.settings.service_url("notifier")
        return f"{base}/unsubscribe?{urlencode({'category': category, 'token': self.token(pid, 'preferences', pid)})}"


def unsubscribe_confirmation(portal_url: str, token: str, category: str) -> str:
    """The portal's preferences page, asked to confirm stopping `category` (an unsubscribe GET)."""
    return f"{portal_url}/preferences?{urlencode({'token': token, 'unsubscribe': category})}"


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def one_click_problem(base_url: str) -> str | None:
    """Why one-click unsubscribe links on `base_url` would not do (None when they would): mail
    providers act on List-Unsubscribe-Post only over https; plain http is for a local stack."""
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return None
    return (f"the notifier's links start with {base_url!r}: one-click unsubscribe needs https outside a "
            f"local setting (set LC_PUBLIC_BASE_URL to an https:// address)")


# ---------------------------------------------------------------- what each template is given

@dataclass
class Draft:
    """One message being put together: what every builder reads and adds to."""

    template: str
    envelope: dict
    recipient: Recipient
    links: Links
    contacts: dict[str, dict]
    resources: list[dict]
    context: dict
    attachments: tuple[Attachment, ...] = ()

    @property
    def data(self) -> dict:
        return self.envelope["data"]

    @property
    def pid(self) -> str | None:
        return self.recipient.participant_id


def _member(data: dict, pid: str) -> dict:
    return next((m for m in data.get("participants", []) if m["participant_id"] == pid), {})


def _others(data: dict, pid: str, contacts: dict[str, dict], *, reveal) -> list[dict]:
    people = []
    for member in data.get("participants", []):
        other = member["participant_id"]
        if other == pid:
            continue
        contact = contacts.get(other) or {}
        people.append({"role": member["role"], **reveal(member, contact)})
    return people


def _consents(contact: dict, key: str) -> bool:
    return bool((contact.get("consent") or {}).get(key))


def _resource_view(resource: dict, links: Links) -> dict:
    resource_id = resource.get("resource_id") or resource.get("_id")
    return {"title": resource["title"], "url": resource["url"], "language": resource["language"],
            "kind": resource.get("kind"), "description": resource.get("description") or "",
            "topics": list(resource.get("topics") or []),
            "page": links.resource(resource_id) if resource_id else resource["url"]}


def _slot_calendar(data: dict, stamp: str, method: str, status: str = "confirmed") -> Attachment:
    content = calendar.clinic_calendar(
        clinic_id=data["clinic_id"], title=data["title"], stamp=stamp, method=method, status=status,
        slots=[{"slot_id": data["slot_id"], "start": data["start"], "minutes": data["minutes"]}],
        meeting_url=data.get("meeting_url"), sequence=calendar.sequence_from(stamp))
    return Attachment("clinic.ics", content, params={"method": method})


def _welcome(draft: Draft) -> None:
    draft.context.update(me_url=draft.links.portal("/me"), sign_in_url=draft.links.portal("/sign-in"),
                         interests=[{"topic": i["topic"], "direction": i["direction"]}
                                    for i in draft.data.get("interests", [])])


def _sign_in(draft: Draft) -> None:
    data, recipient = draft.data, draft.recipient
    subject = recipient.staff_id or recipient.participant_id
    draft.context.update(expires_at=data["expires_at"], staff=recipient.staff_id is not None,
                         sign_in_url=draft.links.sign_in(data["request_id"], subject, recipient.staff_id is not None,
                                                         data["expires_at"]))


def _connection(draft: Draft) -> None:
    data, pid = draft.data, draft.pid
    draft.context.update(topic=data["topic"], language=data["language"], role=_member(data, pid).get("role"),
                         cause=data.get("cause", "responded"), reasons=list(data.get("reasons") or []),
                         expires_at=data.get("expires_at"))
    if draft.template == "match_proposal":
        # before everyone accepts, a name is shown only if its owner made the profile public
        draft.context["others"] = _others(data, pid, draft.contacts, reveal=lambda m, c: {
            "name": c.get("name") if _consents(c, "public_profile") else None})
        draft.context["respond_url"] = draft.links.match(data["match_id"], pid, "match.respond", data.get("expires_at"))
    elif draft.template == "match_introduction":
        me = draft.contacts.get(pid) or {}
        i_share = _consents(me, "share_contact") and _member(data, pid).get("share_contact", True) is not False

        def reveal(member, contact):
            both = i_share and _consents(contact, "share_contact") and member.get("share_contact", True) is not False
            return {"name": contact.get("name"), "email": contact.get("email") if both else None}

        draft.context["others"] = _others(data, pid, draft.contacts, reveal=reveal)
        draft.context["all_contacts"] = all(other["email"] for other in draft.context["others"])
    elif draft.template == "connection_confirm":
        # the people arranged it themselves and know each other: names, no addresses
        draft.context["others"] = _others(data, pid, draft.contacts, reveal=lambda m, c: {"name": c.get("name")})
        draft.context["creator"] = (draft.contacts.get(data["created_by"]) or {}).get("name")
        draft.context["confirm_url"] = draft.links.connection(data["match_id"], pid)
    if draft.template in ("match_introduction", "connection_thanks"):
        draft.context["match_url"] = draft.links.match(data["match_id"], pid, "match.outcome")


def _clinic_invitation(draft: Draft) -> None:
    data = draft.data
    slots = [{"slot_id": s["slot_id"], "start": s["start"], "minutes": s["minutes"]} for s in data["slots"]]
    draft.context.update(title=data["title"], kind=data["kind"], topics=list(data["topics"]), slots=slots,
                         language=data["language"], interpretation=list(data.get("interpretation") or []),
                         reason=data.get("reason"), clinic_url=draft.links.clinic(data["clinic_id"], draft.pid))
    stamp = draft.envelope["time"]
    draft.attachments = (Attachment("clinic.ics", calendar.clinic_calendar(
        clinic_id=data["clinic_id"], title=data["title"], slots=slots, stamp=stamp, method="PUBLISH",
        status="confirmed", sequence=calendar.sequence_from(stamp)), params={"method": "PUBLISH"}),)


def _clinic_registration(draft: Draft) -> None:
    data = draft.data
    draft.context.update(title=data["title"], start=data["start"], minutes=data["minutes"], status=data["status"],
                         position=data.get("position"), meeting_url=data.get("meeting_url"),
                         language=data["language"], interpretation=data.get("interpretation"),
                         clinic_url=draft.links.clinic(data["clinic_id"], draft.pid))
    cancelled = data["status"] == "cancelled"
    draft.attachments = (_slot_calendar(data, draft.envelope["time"], "CANCEL" if cancelled else "REQUEST",
                                        data["status"]),)


def _clinic_reminder(draft: Draft) -> None:
    data = draft.data
    draft.context.update(title=data["title"], start=data["start"], minutes=data["minutes"], lead=data["lead"],
                         meeting_url=data.get("meeting_url"), clinic_url=draft.links.clinic(data["clinic_id"], draft.pid))
    draft.attachments = (_slot_calendar(data, draft.envelope["time"], "PUBLISH"),)


def _feedback_request(draft: Draft) -> None:
    data = draft.data
    recording = data.get("recording_url") if data.get("recording_consent") else None
    draft.context.update(title=data["title"], recording_url=recording,
                         resources=[_resource_view(r, draft.links) for r in draft.resources if r.get("url") != recording],
                         feedback_url=draft.links.feedback(data["clinic_id"], draft.pid))


def _resource_new(draft: Draft) -> None:
    draft.context["resource"] = _resource_view(draft.data, draft.links)


def _resource_digest(draft: Draft) -> None:
    draft.context["resources"] = [_resource_view(r, draft.links) for r in draft.resources]


def _translation_request(draft: Draft) -> None:
    draft.context.update(request=dict(draft.data), list_url=draft.links.portal("/staff/translations"))


# ----- the clinic team (issue 17): presenters, interpreters, the program team, attendees of a missing language

GONE = ("cancelled", "removed", "withdrawn")


def _slots(data: dict) -> list[dict]:
    if "slots" in data:
        return [{"slot_id": s["slot_id"], "start": s["start"], "minutes": s["minutes"]} for s in data["slots"]]
    return [{"slot_id": data["slot_id"], "start": data["start"], "minutes": data["minutes"]}]


def _team_calendar(data: dict, stamp: str, gone: bool) -> Attachment:
    method = "CANCEL" if gone else "PUBLISH"
    content = calendar.clinic_calendar(
        clinic_id=data["clinic_id"], title=data["title"], slots=_slots(data), stamp=stamp, method=method,
        status="cancelled" if gone else "confirmed", meeting_url=None if gone else data.get("meeting_url"),
        sequence=calendar.sequence_from(stamp))
    return Attachment("clinic.ics", content, params={"method": method})


def _team_message(draft: Draft) -> None:
    """Values and attachments of the clinic team's messages; every link lands on the portal with a
    token for exactly its action (a presenter's clinic.present, an interpreter's interpretation.respond
    whose subject is the keyed hash of their address, an attendee's clinic.register)."""
    data, pid, links, context, template = draft.data, draft.pid, draft.links, draft.context, draft.template
    clinic_id = data.get("clinic_id") or data["subject_id"]  # translation-requested names it subject_id
    context.update(title=data["title"], meeting_url=data.get("meeting_url"), minutes=data.get("minutes"),
                   start=data.get("start"), change=data.get("change"), lead=data.get("lead"))
    if template in ("presenter_scheduled", "presenter_reminder"):
        context.update(clinic_url=links.portal(f"/clinics/{_path(clinic_id)}",
                                               token=links.token(pid, "clinic.present", clinic_id)),
                       resources_url=links.portal("/resources"), slots=_slots(data),
                       language=data["language"], interpretation=list(data.get("interpretation") or []),
                       kind=data.get("kind"))
        draft.attachments = (_team_calendar(data, draft.envelope["time"], data.get("change") in GONE),)
    elif template in ("interpreter_request", "interpreter_scheduled", "interpreter_reminder"):
        request_id = data["request_id"]
        language = data.get("interpretation") or data["language"]
        context.update(language=language, source_language=data["source_language"],
                       respond_url=links.portal(f"/interpretation/{_path(request_id)}", token=links.token(
                           translator_id(links.settings, draft.recipient.address), "interpretation.respond", request_id)))
        if template != "interpreter_request":
            draft.attachments = (_team_calendar(data, draft.envelope["time"], data.get("change") in GONE),)
    elif template == "interpretation_missing":
        context.update(language=data["language"], reason=data["reason"], asked=data["asked"],
                       declined=data["declined"], attendees=data["attendees"],
                       clinic_url=links.portal(f"/staff/clinics/{_path(clinic_id)}"))
    elif template == "interpretation_unavailable":
        context.update(interpretation=data["interpretation"], language=data["language"],
                       clinic_url=links.clinic(clinic_id, pid))


TEAM_TEMPLATES = ("presenter_scheduled", "presenter_reminder", "interpreter_request", "interpreter_scheduled",
                  "interpreter_reminder", "interpretation_missing", "interpretation_unavailable")


# template -> what it is given; a new message adds its builder here (and its plan in planning.py)
BUILDERS: dict[str, Callable[[Draft], None]] = {
    "welcome": _welcome,
    "sign_in": _sign_in,
    "match_proposal": _connection, "match_introduction": _connection, "match_declined": _connection,
    "connection_thanks": _connection, "connection_confirm": _connection,
    "clinic_invitation": _clinic_invitation,
    **{template: _clinic_registration for template in (
        "clinic_confirmed", "clinic_waitlisted", "clinic_promoted", "clinic_changed", "clinic_cancelled",
        "clinic_registration_cancelled")},
    "clinic_reminder": _clinic_reminder,
    "feedback_request": _feedback_request,
    "resource_new": _resource_new,
    "resource_digest": _resource_digest,
    "translation_request": _translation_request,
    **{template: _team_message for template in TEAM_TEMPLATES},
}


def message_parts(template: str, envelope: dict, recipient: Recipient, settings: Settings, *,
                  contacts: dict[str, dict] | None = None, resources: list[dict] | None = None,
                  category: str = "") -> MessageParts:
    """Template values, attachments and unsubscribe link for one recipient of one event."""
    if template not in BUILDERS:
        raise KeyError(f"no message is defined for template {template!r}")
    links = Links(settings)
    pid = recipient.participant_id
    unsubscribe_url = links.unsubscribe(pid, category) if pid and unsubscribable(category) else None
    context: dict = {"name": recipient.name or "", "timezone": recipient.timezone, "links": {
        "preferences": links.preferences(pid) if pid else None,
        "unsubscribe": links.preferences(pid, unsubscribe=category) if unsubscribe_url else None}}
    draft = Draft(template, envelope, recipient, links, contacts or {}, list(resources or []), context)
    BUILDERS[template](draft)
    return MessageParts(context=draft.context, attachments=draft.attachments, unsubscribe_url=unsubscribe_url)
