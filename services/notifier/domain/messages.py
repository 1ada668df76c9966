"""What goes into each message: its template values, its links and its attachments.

Pure functions of the event, the recipient's contact and what the notifier knows (other people's
contacts, a clinic's resources); nothing here reads a database or opens a connection.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from shared.tokens import issue_link_token
from shared.config import Settings

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

    @classmethod
    def from_contact(cls, contact: dict) -> "Recipient":
        return cls(address=contact["email"], name=contact.get("name"), languages=tuple(contact.get("languages") or ("en",)),
                   timezone=contact.get("timezone") or "UTC", participant_id=contact["_id"])


@dataclass
class MessageParts:
    context: dict
    attachments: tuple[Attachment, ...] = ()
    unsubscribe_url: str | None = None
    headers: dict = field(default_factory=dict)


class Links:
    """Every link a message carries. A participant's link holds a token for exactly that link's
    action on that thing (shared.tokens.SCOPES), never the person's session token."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def url(self, service: str, path: str, **query) -> str:
        base = f"{self.settings.service_url(service)}{path}"
        query = {k: v for k, v in query.items() if v is not None}
        return f"{base}?{urlencode(query)}" if query else base

    def token(self, pid: str, scope: str, resource: str) -> str:
        return issue_link_token(self.settings, pid, scope, resource)

    def respond(self, match_id: str, pid: str, response: str) -> str:
        return self.url("matcher", f"/matches/{match_id}/respond", response=response, participant=pid,
                        token=self.token(pid, "match.respond", match_id))

    def preferences(self, pid: str) -> str:
        return self.url("notifier", f"/preferences/{pid}", token=self.token(pid, "preferences", pid))

    def unsubscribe(self, pid: str, category: str) -> str:
        return self.url("notifier", f"/preferences/{pid}/unsubscribe", category=category,
                        token=self.token(pid, "preferences", pid))


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


def _resource_view(resource: dict) -> dict:
    return {"title": resource["title"], "url": resource["url"], "language": resource["language"],
            "kind": resource.get("kind"), "description": resource.get("description") or "",
            "topics": list(resource.get("topics") or [])}


def _registration_calendar(data: dict, stamp: str) -> Attachment:
    status = data["status"]
    method = "CANCEL" if status == "cancelled" else "REQUEST"
    content = calendar.clinic_calendar(
        clinic_id=data["clinic_id"], title=data["title"], stamp=stamp, method=method, status=status,
        slots=[{"slot_id": data["slot_id"], "start": data["start"], "minutes": data["minutes"]}],
        meeting_url=data.get("meeting_url"), sequence=calendar.sequence_from(stamp))
    return Attachment("clinic.ics", content, params={"method": method})


def message_parts(template: str, envelope: dict, recipient: Recipient, settings: Settings, *,
                  contacts: dict[str, dict] | None = None, resources: list[dict] | None = None,
                  category: str = "") -> MessageParts:
    """Template values, attachments and unsubscribe link for one recipient of one event."""
    data = envelope["data"]
    contacts = contacts or {}
    links = Links(settings)
    pid = recipient.participant_id
    context: dict = {"name": recipient.name or "", "timezone": recipient.timezone, "links": {}}
    unsubscribe_url = None
    if pid:
        context["links"]["preferences"] = links.preferences(pid)
        if unsubscribable(category):
            unsubscribe_url = links.unsubscribe(pid, category)
    context["links"]["unsubscribe"] = unsubscribe_url
    attachments: tuple[Attachment, ...] = ()

    if template == "welcome":
        context.update(profile_url=links.url("registry", f"/participants/{pid}"),
                       interests=[{"topic": i["topic"], "direction": i["direction"]}
                                  for i in data.get("interests", [])])
    elif template in ("match_proposal", "match_introduction", "match_declined", "connection_thanks"):
        match_id = data["match_id"]
        context.update(topic=data["topic"], language=data["language"], role=_member(data, pid).get("role"),
                       cause=data.get("cause", "responded"), reasons=list(data.get("reasons") or []),
                       expires_at=data.get("expires_at"))
        if template == "match_proposal":
            # before everyone accepts, a name is shown only if its owner made the profile public
            context["others"] = _others(data, pid, contacts, reveal=lambda m, c: {
                "name": c.get("name") if _consents(c, "public_profile") else None})
            context.update(accept_url=links.respond(match_id, pid, "accept"),
                           decline_url=links.respond(match_id, pid, "decline"))
        elif template == "match_introduction":
            me = contacts.get(pid) or {}
            i_share = _consents(me, "share_contact") and _member(data, pid).get("share_contact", True) is not False

            def reveal(member, contact):
                both = i_share and _consents(contact, "share_contact") and member.get("share_contact", True) is not False
                return {"name": contact.get("name"), "email": contact.get("email") if both else None}

            context["others"] = _others(data, pid, contacts, reveal=reveal)
            context["all_contacts"] = all(other["email"] for other in context["others"])
            context["outcome_url"] = links.url("matcher", f"/matches/{match_id}/outcome", participant=pid,
                                               token=links.token(pid, "match.outcome", match_id))
    elif template == "clinic_invitation":
        slots = [{"slot_id": s["slot_id"], "start": s["start"], "minutes": s["minutes"]} for s in data["slots"]]
        context.update(title=data["title"], kind=data["kind"], topics=list(data["topics"]), slots=slots,
                       language=data["language"], interpretation=list(data.get("interpretation") or []),
                       reason=data.get("reason"), clinic_url=links.url("scheduler", f"/clinics/{data['clinic_id']}"))
        attachments = (Attachment("clinic.ics", calendar.clinic_calendar(
            clinic_id=data["clinic_id"], title=data["title"], slots=slots, stamp=envelope["time"], method="PUBLISH",
            status="confirmed", sequence=calendar.sequence_from(envelope["time"])), params={"method": "PUBLISH"}),)
    elif template.startswith("clinic_") and template != "clinic_reminder":
        context.update(title=data["title"], start=data["start"], minutes=data["minutes"], status=data["status"],
                       position=data.get("position"), meeting_url=data.get("meeting_url"),
                       language=data["language"], interpretation=data.get("interpretation"),
                       clinic_url=links.url("scheduler", f"/clinics/{data['clinic_id']}"))
        attachments = (_registration_calendar(data, envelope["time"]),)
    elif template == "clinic_reminder":
        context.update(title=data["title"], start=data["start"], minutes=data["minutes"], lead=data["lead"],
                       meeting_url=data.get("meeting_url"), clinic_url=links.url("scheduler", f"/clinics/{data['clinic_id']}"))
        content = calendar.clinic_calendar(
            clinic_id=data["clinic_id"], title=data["title"], stamp=envelope["time"], method="PUBLISH",
            slots=[{"slot_id": data["slot_id"], "start": data["start"], "minutes": data["minutes"]}],
            meeting_url=data.get("meeting_url"), sequence=calendar.sequence_from(envelope["time"]))
        attachments = (Attachment("clinic.ics", content, params={"method": "PUBLISH"}),)
    elif template == "feedback_request":
        recording = data.get("recording_url") if data.get("recording_consent") else None
        context.update(title=data["title"], recording_url=recording,
                       resources=[_resource_view(r) for r in resources or [] if r.get("url") != recording],
                       feedback_url=links.url("scheduler", f"/clinics/{data['clinic_id']}/feedback",
                                              participant=pid,
                                              token=links.token(pid, "clinic.feedback", data["clinic_id"])))
    elif template == "resource_new":
        context["resource"] = _resource_view(data)
    elif template == "resource_digest":
        context["resources"] = [_resource_view(r) for r in resources or []]
    elif template == "translation_request":
        context.update(request=dict(data), list_url=links.url("notifier", "/translation-requests"),
                       done_url=links.url("notifier", f"/translation-requests/{data['request_id']}/done"))
    else:
        raise KeyError(f"no message is defined for template {template!r}")
    return MessageParts(context=context, attachments=attachments, unsubscribe_url=unsubscribe_url)
