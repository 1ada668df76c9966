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
    return {
        "participant-registered": applying(people.on_participant),
        "participant-updated": applying(people.on_participant),
        "participant-withdrawn": applying(people.on_withdrawn),
        "skill-registered": applying(people.on_skill),
        "skill-withdrawn": applying(people.on_skill_withdrawn),
    }
