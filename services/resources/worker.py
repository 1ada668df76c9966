"""The resources worker: recordings from completed sessions, erasure, and the outbox relay."""
from __future__ import annotations

from shared.config import Settings
from shared.inbox import IdempotentHandler, Inbox
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.worker import Worker, serve

from services.resources import SERVICE
from services.resources.library import Library
from services.resources.store import Store


# What a published recording says about consent (the scheduler's recording_consent_basis).
CONSENT_BASES = {
    "every_attendee_consented": "Published because every attendee consented to being recorded.",
    "staff_confirmed_unconsented_not_recorded": "Published after staff confirmed that the attendees who did not "
                                                "consent to recording were not recorded.",
    None: "Published with the consent of everyone recorded.",
}


def build_worker(settings: Settings) -> Worker:
    store = Store(database(settings, SERVICE))
    store.ensure_indexes()
    library = Library(store)
    inbox = Inbox(store.db, SERVICE)
    subjects = TokenSubjects(store.db)

    def on_recording(session, envelope):
        """session-completed with every attendee's consent, or clinic-recording-cleared once staff
        confirmed those without consent were not recorded: the recording is published, naming that basis."""
        data = envelope["data"]
        if not data.get("recording_url") or (envelope["type"] == "session-completed"
                                             and not data.get("recording_consent")):
            return  # without consent nothing is published
        resource_id = f"recording-{data['clinic_id']}"
        if store.resources.find_one({"_id": resource_id}, session=session):
            return
        basis = CONSENT_BASES.get(data.get("recording_consent_basis"), CONSENT_BASES[None])
        library.publish({"title": f"Recording: {data['title']}", "description": f"Recording of the learning clinic. "
                         f"{basis}", "kind": "recording", "url": data["recording_url"], "language": data["language"],
                         "topics": data["topics"], "clinic": data["clinic_id"], "authors": ["Let's Connect"],
                         "license": "CC-BY-SA-4.0", "consent": True}, owner=None, session=session,
                        resource_id=resource_id)

    def on_participant_withdrawn(session, envelope):
        # Attribution published under an open licence stays; the link to the person goes.
        store.resources.update_many({"owner": envelope["data"]["participant_id"]}, {"$set": {"owner": None}},
                                    session=session)
        subjects.apply(session, envelope)

    return Worker(SERVICE, settings, store.db, handlers={
        "session-completed": IdempotentHandler(inbox, on_recording),
        "clinic-recording-cleared": IdempotentHandler(inbox, on_recording),
        "participant-withdrawn": IdempotentHandler(inbox, on_participant_withdrawn),
        # only to refuse tokens issued before a reissue
        "participant-registered": IdempotentHandler(inbox, writes=subjects.writes),
        "participant-updated": IdempotentHandler(inbox, writes=subjects.writes),
        "skill-registered": IdempotentHandler(inbox, writes=store.known_topics.writes),  # staff-added topics
    })


if __name__ == "__main__":
    serve(build_worker)
