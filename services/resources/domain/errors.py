"""What a resources use case can refuse with; api.py turns each into its HTTP answer."""
from __future__ import annotations


class ResourcesError(Exception):
    pass


class NotFound(ResourcesError):
    pass


class RecordingWithoutConsent(ResourcesError):
    """A recording is published only when everyone recorded agreed."""

    def __init__(self):
        super().__init__("a recording is published only when everyone recorded consented")


class NotOwner(ResourcesError):
    """Only the person who published a resource, or staff, may change it."""


class UnknownTopicCodes(ResourcesError):
    """Codes neither in the base taxonomy nor seen in skill-registered (staff-added in the registry)."""

    def __init__(self, codes: list[str]):
        super().__init__("unknown topic codes")
        self.codes = codes


class TooManyProposals(ResourcesError):
    pass
