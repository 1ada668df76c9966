"""A resource from publication to change: its stored shape, its event, who may change it, and
the one rule about recordings (published only when everyone recorded consented)."""
from __future__ import annotations

from services.resources.domain.errors import NotOwner, RecordingWithoutConsent
from services.resources.domain.search import tokens

# Attribution for what the program itself publishes (recordings of its clinics).
PROGRAM_AUTHOR = "Let's Connect"
PROGRAM_LICENCE = "CC-BY-SA-4.0"


def recording_consent_missing(kind: str | None, consent: bool | None) -> bool:
    return kind == "recording" and not consent


def require_recording_consent(resource: dict) -> None:
    if recording_consent_missing(resource.get("kind"), resource.get("consent")):
        raise RecordingWithoutConsent()


def search_tokens(resource: dict) -> list[str]:
    return tokens(f"{resource['title']} {resource['description']}")


def new_resource(data: dict, *, resource_id: str, owner: str | None, now: str) -> dict:
    resource = {"_id": resource_id, "title": data["title"], "description": data["description"], "kind": data["kind"],
                "url": data["url"], "language": data["language"], "topics": data["topics"],
                "clinic_id": data.get("clinic"), "authors": data["authors"], "license": data["license"],
                "consent": data["consent"], "owner": owner, "translations": [], "proposals": [], "published_at": now,
                "updated_at": now}
    require_recording_consent(resource)
    return {**resource, "tokens": search_tokens(resource)}


def changed_resource(resource: dict, changes: dict, now: str) -> dict:
    """The resource with `changes` (API field names: `clinic` is stored as `clinic_id`)."""
    merged = {**resource, **{("clinic_id" if k == "clinic" else k): v for k, v in changes.items()}}
    require_recording_consent(merged)
    return {**merged, "tokens": search_tokens(merged), "updated_at": now}


def may_change(resource: dict, subject: str, is_staff: bool) -> bool:
    return is_staff or (resource.get("owner") is not None and resource.get("owner") == subject)


def require_may_change(resource: dict, subject: str, is_staff: bool) -> None:
    if not may_change(resource, subject, is_staff):
        raise NotOwner("only the person who published it, or staff, can change it")


def published_event(resource: dict) -> dict:
    return {"resource_id": resource["_id"], "title": resource["title"], "description": resource["description"],
            "kind": resource["kind"], "url": resource["url"], "language": resource["language"],
            "topics": resource["topics"], "clinic_id": resource.get("clinic_id"), "authors": resource["authors"],
            "license": resource["license"], "published_at": resource["published_at"]}


def recording_resource_id(clinic_id: str) -> str:
    """One recording per clinic, however often session-completed arrives."""
    return f"recording-{clinic_id}"


# What a published recording says about consent (the scheduler's recording_consent_basis).
CONSENT_BASES = {
    "every_attendee_consented": "Published because every attendee consented to being recorded.",
    "staff_confirmed_unconsented_not_recorded": "Published after staff confirmed that the attendees who did not "
                                                "consent to recording were not recorded.",
    None: "Published with the consent of everyone recorded.",
}


def recording_from_session(session: dict) -> dict | None:
    """The resource a completed session's recording becomes (publish data), or None: without a
    recording, or without everyone's consent, nothing is published. session-completed says
    `recording_consent` when every attendee consented; clinic-recording-cleared (staff confirmed
    those without consent were not recorded) carries its basis instead. The description names the
    basis."""
    basis = session.get("recording_consent_basis")
    consented = session.get("recording_consent") or basis == "staff_confirmed_unconsented_not_recorded"
    if not session.get("recording_url") or recording_consent_missing("recording", consented):
        return None
    return {"title": f"Recording: {session['title']}",
            "description": f"Recording of the learning clinic. {CONSENT_BASES.get(basis, CONSENT_BASES[None])}",
            "kind": "recording", "url": session["recording_url"], "language": session["language"],
            "topics": session["topics"], "clinic": session["clinic_id"], "authors": [PROGRAM_AUTHOR],
            "license": PROGRAM_LICENCE, "consent": True}


def hidden_resource(resource: dict, reason: str, by: str, now: str) -> dict:
    """Taken off the public lists (search, the Meta-Wiki export, its own page) by staff, with the
    reason; nothing else changes, so restoring it brings it back as it was."""
    return {**resource, "hidden": {"reason": reason, "by": by, "at": now}, "updated_at": now}


def restored_resource(resource: dict, now: str) -> dict:
    restored = {key: value for key, value in resource.items() if key != "hidden"}
    return {**restored, "updated_at": now}


def is_hidden(resource: dict) -> bool:
    return bool(resource.get("hidden"))
