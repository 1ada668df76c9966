"""The matcher worker: read model from registry events, incremental proposals, expiry, relay."""
from __future__ import annotations

from shared.config import Settings
from shared.inbox import Inbox
from shared.mongo import database
from shared.token_subjects import TokenSubjects
from shared.worker import PeriodicJob, Worker, serve

from services.matcher import SERVICE
from services.matcher.config import MatcherConfig
from services.matcher.matching import Matcher, interest_id
from services.matcher.store import Store


def build_worker(settings: Settings, config: MatcherConfig | None = None, clock=None) -> Worker:
    store = Store(database(settings, SERVICE))
    store.ensure_indexes()
    matcher = Matcher(store, config or MatcherConfig.from_env(), clock)
    inbox = Inbox(store.db, SERVICE)
    subjects = TokenSubjects(store.db)

    def on_skill_registered(envelope):
        data = envelope["data"]
        inbox.apply_once(envelope, lambda session: matcher.apply_skill(session, data))
        # Proposals are their own transactions: a redelivery finds the open match and does nothing.
        if data["direction"] == "learn":
            matcher.propose_for_learner(interest_id(data))
        else:
            matcher.propose_for_sharer(interest_id(data))

    def on_skill_withdrawn(envelope):
        inbox.apply_once(envelope, lambda session: matcher.apply_skill_withdrawn(session, envelope["data"]))

    def on_participant_withdrawn(envelope):
        def effect(session):
            matcher.apply_participant_withdrawn(session, envelope["data"])
            subjects.apply(session, envelope)
        inbox.apply_once(envelope, effect)

    def on_participant_state(envelope):
        def effect(session):
            matcher.apply_participant_state(session, envelope["data"])
            subjects.apply(session, envelope)
        inbox.apply_once(envelope, effect)

    def on_match_declined(envelope):
        # Our own event: a proposal closed without a connection (declined, expired, someone left);
        # the others get their next best proposal now rather than at the next round.
        matcher.repropose(envelope["data"])

    return Worker(SERVICE, settings, store.db, handlers={
        "skill-registered": on_skill_registered,
        "skill-withdrawn": on_skill_withdrawn,
        "participant-withdrawn": on_participant_withdrawn,
        "participant-registered": on_participant_state,
        "participant-updated": on_participant_state,
        "match-declined": on_match_declined,
    }, jobs=[PeriodicJob("expire-proposals", matcher.config.expiry_check_seconds, matcher.expire)])


if __name__ == "__main__":
    serve(build_worker)
