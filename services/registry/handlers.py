"""Event type -> use case. The registry consumes no events today: it is where participants,
their interests and the taxonomy come from, and nothing another service says changes them.
Its worker runs the outbox relay (and any periodic jobs) only, so the mapping is empty; a
handler added here is an `shared.inbox.IdempotentHandler` calling a use case of service.py."""
from __future__ import annotations

from shared.inbox import IdempotentHandler, Inbox

from services.registry.service import RegistryService


def handlers(service: RegistryService, inbox: Inbox) -> dict[str, IdempotentHandler]:
    return {}
