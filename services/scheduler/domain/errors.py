"""Why a use case did not happen: the service raises these, the routes turn them into answers."""
from __future__ import annotations


class NotFound(Exception):
    """No such clinic, registration, space ... (404)."""

    def __init__(self, message: str = "not found"):
        super().__init__(message)
        self.message = message


class Refused(Exception):
    """Something the rules do not allow. `code` is the HTTP status that explains it (409 a conflict
    with the current state, 403 not this person's to do, 422 bad input); `field` names the input
    field at fault, when there is one, so the answer can name it."""

    def __init__(self, message: str, code: int = 409, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


class Invalid(Refused):
    """Input the rules refuse (422), with messages by field: `messages` is a list of messages, or a
    mapping (e.g. slot index -> messages) for a list field."""

    def __init__(self, field: str, messages, message: str = "invalid input"):
        super().__init__(message, 422, field=field)
        self.messages = messages
