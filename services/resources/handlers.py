"""Event type -> use case, each through shared.inbox.IdempotentHandler (applied once, in the
effect's transaction)."""
from __future__ import annotations

from shared.inbox import IdempotentHandler, Inbox

from services.resources.service import ResourcesService


def handlers(service: ResourcesService, inbox: Inbox) -> dict[str, IdempotentHandler]:
    subjects = service.store.subjects

    def participant_withdrawn(session, envelope):
        service.forget_participant(session, envelope["data"]["participant_id"])
        subjects.apply(session, envelope)  # their tokens stop working here too

    return {
        "session-completed": IdempotentHandler(
            inbox, lambda session, envelope: service.publish_recording(session, envelope["data"])),
        # a recording staff cleared (those without consent were not recorded): published then
        "clinic-recording-cleared": IdempotentHandler(
            inbox, lambda session, envelope: service.publish_recording(session, envelope["data"])),
        "participant-withdrawn": IdempotentHandler(inbox, participant_withdrawn),
        # only to refuse tokens issued before a reissue
        "participant-registered": IdempotentHandler(inbox, writes=subjects.writes),
        "participant-updated": IdempotentHandler(inbox, writes=subjects.writes),
        # topics staff added in the registry become acceptable once seen here
        "skill-registered": IdempotentHandler(inbox, writes=service.store.known_topics.writes),
    }
