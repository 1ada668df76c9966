"""Keyed hashes that stand for someone without naming them (pure; no I/O).

- Translators are configured addresses (LC_TRANSLATORS), not participants: an interpreter's link
  token and the events about them carry `translator_id(settings, address)`, never the address. The
  scheduler (which checks the token) and the notifier (which mails the address) both know the
  addresses and the key, so each finds the person behind an id without it travelling in clear.
- A service that must remember an erased participant (to ignore their stale events) keeps
  `keyed_hash(settings, "erased", participant_id)` instead of the raw id, or, where no signing key
  is at hand (the outbox, the notifier's tombstones), `erased_key(participant_id)`: a digest of an
  id that is itself random (128 bits), so it cannot be reversed by guessing and names nobody.

HMAC-SHA256 with the signing keys of shared.tokens (LC_SECRET_KEYS): `keyed_hash` uses the key that
signs; `keyed_hashes` gives the value under every key that still verifies, so ids made before a key
rotation are recognised until the old key is retired.
"""
from __future__ import annotations

import hashlib
import hmac

from shared.config import Settings

LENGTH = 32  # hex characters kept (128 bits)


def _hash(secret: str, purpose: str, value: str) -> str:
    message = f"{purpose}\x00{value}".encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()[:LENGTH]


def erased_key(participant_id: str) -> str:
    """What stands for an erased participant in a record that must outlive them (a tombstone, a
    delivery log line): a SHA-256 digest of their id, never the id."""
    return "erased:" + hashlib.sha256(participant_id.encode("utf-8")).hexdigest()


def keyed_hash(settings: Settings, purpose: str, value: str) -> str:
    return _hash(next(iter(settings.secret_keys.values())), purpose, value)


def keyed_hashes(settings: Settings, purpose: str, value: str) -> list[str]:
    return list(dict.fromkeys(_hash(secret, purpose, value) for secret in settings.secret_keys.values()))


def _address(address: str) -> str:
    return address.strip().lower()


def translator_id(settings: Settings, address: str) -> str:
    """The opaque id of a configured translator (a token's subject, an event's `interpreter`)."""
    return "tr-" + keyed_hash(settings, "translator", _address(address))


def translators_of(settings: Settings, language: str) -> tuple[str, ...]:
    """The configured translators of `language` (pt-BR falls back to pt's), in configured order."""
    found = settings.translators.get(language) or settings.translators.get(language.split("-")[0]) or ()
    return tuple(dict.fromkeys(found))


def translator_for(settings: Settings, language: str, translator: str) -> str | None:
    """The address of the translator of `language` whose id is `translator`, or None (not, or no
    longer, configured for that language)."""
    for address in translators_of(settings, language):
        if translator in ("tr-" + h for h in keyed_hashes(settings, "translator", _address(address))):
            return address
    return None
