"""Event type -> use case, each through the shared IdempotentHandler: a whole poll of events is
applied in one transaction with their inbox rows, and the messages it queued go to this
process's sender once it committed."""
from __future__ import annotations

from typing import Callable

from pymongo.client_session import ClientSession

from shared.inbox import IdempotentHandler, Inbox

from services.notifier.service import MESSAGE_EVENTS, NotifierService

ARRIVALS = ("participant-registered", "participant-updated")


def _each(effect: Callable[[ClientSession, dict], None]) -> Callable[[ClientSession, list[dict]], None]:
    def run(session: ClientSession, envelopes: list[dict]) -> None:
        for envelope in envelopes:
            effect(session, envelope)
    return run


def handlers(service: NotifierService, inbox: Inbox) -> dict[str, IdempotentHandler]:
    def handler(batch) -> IdempotentHandler:
        return IdempotentHandler(inbox, batch=batch, begin=service.handoff.begin, committed=service.handoff.committed)

    contacts, messages = service.contacts, service.messages

    def arrivals_and_messages(session: ClientSession, envelopes: list[dict]) -> list:
        return contacts.on_poll(session, [e for e in envelopes if e["type"] in ARRIVALS],
                                messages.planned([e for e in envelopes if e["type"] not in ARRIVALS]))

    # one handler for registrations and message events: a poll's contacts and preferences are read
    # once for all of them, and all it writes goes with its inbox rows in one request. The contacts
    # first: a poll's events are applied in this order (shared.bus.in_handler_order), so a message
    # naming someone who registers in the same poll is written at once, never parked.
    poll = IdempotentHandler(inbox, batch_writes=arrivals_and_messages, begin=service.handoff.begin,
                             committed=service.handoff.committed)
    wired = {
        "participant-registered": poll,
        "participant-updated": poll,
        "participant-withdrawn": handler(_each(contacts.on_withdrawn)),
        "staff-account-changed": handler(_each(contacts.on_staff_account)),
        "resource-published": handler(_each(messages.on_resource_published)),
        "translation-requested": handler(messages.on_translation_requested),
    }
    for event_type in MESSAGE_EVENTS:
        wired[event_type] = poll
    return wired
