"""Which use case each consumed event runs, through the shared idempotent handler."""
from __future__ import annotations

from shared.inbox import IdempotentHandler, Inbox
from shared.token_subjects import TokenSubjects

from services.matcher.domain.matches import interest_id
from services.matcher.service import MatcherService


def handlers(service: MatcherService, inbox: Inbox) -> dict[str, IdempotentHandler]:
    subjects = TokenSubjects(service.store.db)

    def propose(envelopes: list[dict]) -> None:
        # Proposals are their own transactions, after the read model's: a redelivery finds the
        # open match (the learner's claim) and does nothing. A poll's learners share their reads.
        data = [envelope["data"] for envelope in envelopes if envelope["type"] == "skill-registered"]
        service.propose_for_learners([interest_id(d) for d in data if d["direction"] == "learn"])
        for sharer in dict.fromkeys(interest_id(d) for d in data if d["direction"] == "share"):
            service.propose_for_sharer(sharer)

    def arrivals(session, envelopes: list[dict]) -> list:
        # one handler for the three types, so a poll's registration (participant- and
        # skill-registered) costs one read of the people and one write for everything, inbox rows included
        return [*service.arrival_writes(session, [e["data"] for e in envelopes if e["type"] != "skill-registered"],
                                        [e["data"] for e in envelopes if e["type"] == "skill-registered"]),
                *(write for envelope in envelopes for write in subjects.writes(envelope))]

    def participant_withdrawn(session, envelope: dict) -> None:
        service.apply_participant_withdrawn(session, envelope["data"])
        subjects.apply(session, envelope)

    def nothing(session, envelope: dict) -> None:
        pass

    def look_again(envelopes: list[dict]) -> None:
        # Our own event: a proposal closed without a connection (declined, expired, someone left);
        # the others get their next best proposal now rather than at the next round.
        for envelope in envelopes:
            service.repropose(envelope["data"])

    arriving = IdempotentHandler(inbox, batch_writes=arrivals, follow_up=propose)
    return {
        "skill-registered": arriving,
        "skill-withdrawn": IdempotentHandler(inbox, lambda s, e: service.apply_skill_withdrawn(s, e["data"])),
        "participant-withdrawn": IdempotentHandler(inbox, participant_withdrawn),
        "participant-registered": arriving,
        "participant-updated": arriving,
        "match-declined": IdempotentHandler(inbox, nothing, follow_up=look_again),
    }
