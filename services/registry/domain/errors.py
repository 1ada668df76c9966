"""What a registry use case can refuse with; api.py turns each into its HTTP answer."""
from __future__ import annotations


class RegistryError(Exception):
    pass


class UsernameTaken(RegistryError):
    pass


class NotEligible(RegistryError):
    def __init__(self, verdict):
        super().__init__("not eligible")
        self.verdict = verdict


class UnknownTopics(RegistryError):
    def __init__(self, errors: dict):
        super().__init__("unknown topics")
        self.errors = errors


class NotFound(RegistryError):
    pass


class Withdrawn(RegistryError):
    pass


class ChangedConcurrently(RegistryError):
    def __init__(self):
        super().__init__("profile changed concurrently; try again")


class UnknownCategory(RegistryError):
    def __init__(self, categories: set[str]):
        super().__init__("unknown category")
        self.categories = categories


class TopicExists(RegistryError):
    def __init__(self, code: str):
        super().__init__(f"topic {code!r} exists; codes never change")
        self.code = code


class SignInRefused(RegistryError):
    """A sign-in link that was used, expired, or is not this person's: no session."""
