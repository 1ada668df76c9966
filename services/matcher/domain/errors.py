"""What a use case refuses, with the HTTP status the API answers it with."""
from __future__ import annotations


class MatchError(Exception):
    status = 409


class NotFound(MatchError):
    status = 404


class Forbidden(MatchError):
    status = 403


class Invalid(MatchError):
    """Input that passed the schema but breaks a rule of the program (422, naming the field)."""

    status = 422

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class RoundRunning(MatchError):
    status = 409
