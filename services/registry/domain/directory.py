"""The public directory: only people who agreed to a public profile, only public fields.

The conditions are plain data (`field path -> required value`; `interests` names one interest
that must have every given field) that the store turns into its query, so the consent rule is
stated once, here.
"""
from __future__ import annotations

# Never email, time zone, consent details or free text about other matters.
LISTED_FIELDS = ("username", "name", "languages", "region", "group", "role", "interests")


def conditions(*, topic: str | None = None, direction: str | None = None, language: str | None = None,
               region: str | None = None, group_type: str | None = None) -> dict:
    """What a profile must satisfy to be listed for these filters."""
    wanted: dict = {"consent.public_profile": True}
    interest = {k: v for k, v in (("topic", topic), ("direction", direction)) if v}
    if interest:
        wanted["interests"] = interest
    if language:
        wanted["languages"] = language
    if region:
        wanted["region"] = region
    if group_type:
        wanted["group.type"] = group_type
    return wanted


def staff_conditions(*, topic: str | None = None, direction: str | None = None, language: str | None = None,
                     region: str | None = None, group_type: str | None = None) -> dict:
    """The working group's search: the same filters over every profile, consented to a public
    profile or not (staff see whole profiles)."""
    wanted = conditions(topic=topic, direction=direction, language=language, region=region, group_type=group_type)
    wanted.pop("consent.public_profile")
    return wanted


def listed(profile: dict) -> bool:
    return bool(profile.get("consent", {}).get("public_profile"))


def entry(profile: dict) -> dict:
    return {"id": profile["_id"], **{field: profile.get(field) for field in LISTED_FIELDS}}


def page(profiles: list[dict], limit: int) -> tuple[list[dict], str | None]:
    """`profiles` read in directory order, one more than `limit` when there is more: the entries
    to show and the position after which the next page starts (None on the last page)."""
    shown = profiles[:limit]
    more = len(profiles) > limit and shown
    return [entry(p) for p in shown], (shown[-1]["directory_key"] if more else None)
