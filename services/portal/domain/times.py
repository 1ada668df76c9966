"""Dates and times as the viewer reads them: their time zone, their locale's formats (CLDR via Babel).

The services speak UTC (ISO 8601); a person sees "Thursday, 10 December 2026, 16:00 – 17:30
(Egypt Time (GMT+02:00))" in their own language and zone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import format_date, format_interval, get_timezone_gmt, get_timezone_location

UTC_NAME = "UTC"


@lru_cache(maxsize=1)
def all_zones() -> tuple[str, ...]:
    """Every IANA zone the platform accepts (the registry validates against the same list)."""
    return tuple(sorted(available_timezones()))


def is_zone(name: str | None) -> bool:
    return bool(name) and name in _zone_set()


@lru_cache(maxsize=1)
def _zone_set() -> frozenset[str]:
    return frozenset(all_zones())


def viewer_zone(requested: str | None, remembered: str | None) -> str:
    """The zone times are shown in: the one just chosen, else the one remembered, else UTC."""
    for candidate in (requested, remembered):
        if is_zone(candidate):
            return candidate
    return UTC_NAME


def parse_utc(value: str) -> datetime:
    """An ISO 8601 time from an API (with Z or an offset; naive means UTC)."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@lru_cache(maxsize=32)
def _locale(code: str) -> Locale:
    """Parsed once: Babel's formatting functions would parse the code again on every call."""
    return Locale.parse(code)


@lru_cache(maxsize=32)
def _clock_skeleton(locale: str) -> str:
    """12- or 24-hour clock, as the locale writes times."""
    return "hm" if "h" in str(_locale(locale).time_formats["short"]) else "Hm"


@dataclass(frozen=True)
class SlotTime:
    day: str        # "Thursday, 10 December 2026" in the viewer's zone and language
    hours: str      # "16:00 – 17:30"
    zone: str       # "Egypt Time (GMT+02:00)"
    start_iso: str  # for <time datetime=...>
    past: bool


def slot_time(start: str, minutes: int, locale: str, zone: str, now: datetime | None = None) -> SlotTime:
    tz = ZoneInfo(zone)
    begins = parse_utc(start)
    ends = begins + timedelta(minutes=minutes)
    local = begins.astimezone(tz)
    return SlotTime(
        day=format_date(local, "full", locale=_locale(locale)),
        hours=format_interval(begins, ends, _clock_skeleton(locale), tzinfo=tz, locale=_locale(locale)),
        zone=zone_name(zone, locale, at=begins),
        start_iso=begins.isoformat().replace("+00:00", "Z"),
        past=begins <= (now or datetime.now(timezone.utc)),
    )


def zone_name(zone: str, locale: str, at: datetime | None = None) -> str:
    """The zone as the reader names it, with its offset at that moment: "Egypt Time (GMT+02:00)",
    "توقيت مصر (غرينتش+02:00)". UTC is called UTC everywhere."""
    if zone in (UTC_NAME, "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "UCT", "Etc/UCT"):
        return UTC_NAME
    tz = ZoneInfo(zone)
    moment = (at or datetime.now(timezone.utc)).astimezone(tz)
    return f"{get_timezone_location(tz, locale=_locale(locale))} ({get_timezone_gmt(moment, 'long', locale=_locale(locale))})"


def day(value: str | None, locale: str, zone: str) -> str:
    """A date (e.g. when a resource was published) in the viewer's zone: "10 December 2026"."""
    if not value:
        return ""
    return format_date(parse_utc(value).astimezone(ZoneInfo(zone)), "long", locale=_locale(locale))


@lru_cache(maxsize=16)
def zone_options(locale: str) -> tuple[tuple[str, str], ...]:
    """(IANA name, "City · GMT+02:00" in the locale) for every zone: the searchable list of a form."""
    now = datetime.now(timezone.utc)
    options = []
    for name in all_zones():
        tz = ZoneInfo(name)
        try:
            city = get_timezone_location(tz, locale=locale, return_city=True)
        except (LookupError, ValueError):
            city = name
        options.append((name, f"{city} · {get_timezone_gmt(now.astimezone(tz), 'long', locale=locale)}"))
    return tuple(options)
