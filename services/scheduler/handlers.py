"""Which use case each consumed event drives; every one applied once (shared.inbox.IdempotentHandler)."""
from __future__ import annotations

from typing import Callable

from shared.inbox import IdempotentHandler, Inbox
from shared.token_subjects import TokenSubjects

from services.scheduler.service import SchedulerService


def handlers(service: SchedulerService, inbox: Inbox) -> dict[str, IdempotentHandler]:
    subjects = TokenSubjects(service.store.db)

    def applying(use_case: Callable) -> IdempotentHandler:
        def effect(session, envelope):
            use_case(session, envelope["data"])
            subjects.apply(session, envelope)  # reissues and erasures; a no-op for other events
        return IdempotentHandler(inbox, effect)

    people = service.people

    def arrivals(session, envelopes):
        people.on_arrivals(session, envelopes)
        subjects.apply_all(session, envelopes)  # reissued tokens (participant-updated)

    # one handler for the three, so a poll's registrations share their reads and writes
    arriving = IdempotentHandler(inbox, batch=arrivals)
    return {
        "participant-registered": arriving,
        "participant-updated": arriving,
        "participant-withdrawn": applying(people.on_withdrawn),
        "skill-registered": arriving,
        "skill-withdrawn": applying(people.on_skill_withdrawn),
        # who already has a connection on a topic (topic suggestions rank learners still waiting)
        "match-confirmed": applying(people.on_connection),
        "connection-completed": applying(people.on_connection),
        # a removed staff account's tokens (or those before a role change) stop counting here too
        "staff-account-changed": IdempotentHandler(inbox, writes=subjects.writes),
    }
