"""A participant's profile through its life: registration, changes, a token reissue, erasure.

Profiles are plain dicts as stored (`_id` is the participant id). Every function here returns
new data and leaves its arguments alone; the service saves what they return.
"""
from __future__ import annotations

import hashlib

from services.registry.domain.eligibility import Verdict, require_eligible
from services.registry.domain.skills import participant_state, skill_changes, skill_registered, skill_withdrawn
from services.registry.domain.usernames import canonical_username

CONSENT_FLAGS = ("public_profile", "share_contact", "recording")
# Fields a registration sets as given and a change may replace (interests and consent are shaped first).
PLAIN_FIELDS = ("name", "email", "languages", "timezone", "region", "group", "role", "purpose", "activities")
# Derived from other fields for the indexes; a change of only these is no change.
DERIVED_FIELDS = ("email_key",)


def email_key(email: str) -> str:
    """How addresses compare for sign-in: the same address in any case is the same address."""
    return email.strip().casefold()

def normalised_interests(interests: list[dict]) -> list[dict]:
    """One shape for every stored interest, so comparing old and new finds only real changes."""
    return [{"topic": i["topic"], "direction": i["direction"], "note": i.get("note"), "level": i.get("level")}
            for i in interests]


def consent_record(consent: dict, before: dict | None, now: str) -> dict:
    """Flags plus the time each was given (kept from before while it stays given). A change that
    names only some flags (a PATCH) leaves the others as they were."""
    before = before or {}
    flags = {flag: bool(consent.get(flag, before.get(flag, False))) for flag in CONSENT_FLAGS}
    given_at = dict(before.get("given_at", {}))
    for flag, given in flags.items():
        if given and not before.get(flag):
            given_at[flag] = now
        elif not given:
            given_at[flag] = None
    return {**flags, "given_at": given_at}


def new_profile(body: dict, *, participant_id: str, now: str, directory_suffix: str,
                source: str = "api") -> tuple[dict, Verdict]:
    """The profile a registration stores, and the eligibility verdict (NotEligible when unmet).
    `directory_suffix` keeps directory keys unique when two usernames fold to the same text."""
    verdict = require_eligible(body["group"], body["role"], body["purpose"])
    username = canonical_username(body["username"])
    profile = {
        "_id": participant_id, "revision": 1, "username": username, "username_key": username,
        "directory_key": f"{username.casefold()}\x00{directory_suffix}",
        **{field: body[field] for field in PLAIN_FIELDS},
        "email_key": email_key(body["email"]),
        "interests": normalised_interests(body["interests"]),
        "consent": consent_record(body["consent"], None, now), "registered_at": now, "updated_at": now,
        "tokens_valid_after": None, "source": source,
    }
    return profile, verdict


def _comparable(profile: dict) -> dict:
    return {k: v for k, v in profile.items() if k not in DERIVED_FIELDS}


def changed_profile(before: dict, changes: dict, now: str) -> dict:
    """The profile after `changes` (any registration field but the username; `interests` replaces
    the list): `before` itself when nothing changes, else the next revision. NotEligible when the
    change would leave the checklist unmet."""
    after = {**before, **{k: v for k, v in changes.items() if k in PLAIN_FIELDS}}
    if "interests" in changes:
        after["interests"] = normalised_interests(changes["interests"])
    if "consent" in changes:
        after["consent"] = consent_record(changes["consent"], before["consent"], now)
    require_eligible(after["group"], after["role"], after["purpose"])
    after["email_key"] = email_key(after["email"])
    if _comparable(after) == _comparable(before):
        return before
    return {**after, "revision": before["revision"] + 1, "updated_at": now}


def reissued(before: dict, valid_after: str, now: str) -> dict:
    """Every token issued before `valid_after` stops counting (a new revision tells the others)."""
    return {**before, "tokens_valid_after": valid_after, "revision": before["revision"] + 1, "updated_at": now}


def tombstone_id(participant_id: str) -> str:
    """The key erasure leaves behind: enough to answer "this person withdrew" to someone who
    already holds the id, without keeping the id itself in a searchable field."""
    return hashlib.sha256(participant_id.encode("utf-8")).hexdigest()


def erased(profile: dict, now: str) -> tuple[dict, dict]:
    """(the tombstone, participant-withdrawn data): nothing personal stays."""
    revision = profile["revision"] + 1
    tombstone = {"_id": tombstone_id(profile["_id"]), "revision": revision, "withdrawn_at": now}
    return tombstone, {"participant_id": profile["_id"], "revision": revision, "withdrawn_at": now}


def change_events(before: dict, after: dict) -> list[tuple[str, dict]]:
    """participant-registered (no `before`) or participant-updated, then the skill events the
    change needs, in that order."""
    announce, withdraw = skill_changes(before, after)
    events = [("participant-updated" if before else "participant-registered", participant_state(after))]
    events += [("skill-registered", skill_registered(after, interest)) for interest in announce]
    events += [("skill-withdrawn", skill_withdrawn(after, interest)) for interest in withdraw]
    return events
