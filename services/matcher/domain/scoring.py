"""The documented score of a learner-sharer pair, with its reasons in plain words and as codes.

score = w.language  * (2 if the shared language is both people's first, 1.5 if one's, else 1)
      + w.overlap   * min(overlap hours, 4) / 2          (0..2)
      + w.waiting   * min(days the learner waited, 60) / 30   (0..2)
      - w.load      * 0.5 * the sharer's open connections
      + w.rare_sharer * (1 - share of sharers from the sharer's region)   (space for rarely seen sharers)
      + w.region    * 0.5 if both are in the same region
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache

from shared.languages import language_name

from shared.taxonomy import topic_label

from services.matcher.domain.rules import common_languages, overlap


@lru_cache(maxsize=65536)
def _registered(registered_at: str) -> datetime:
    return datetime.fromisoformat(registered_at.replace("Z", "+00:00"))


def days_waiting(registered_at: str | None, now: datetime) -> float:
    if not registered_at:
        return 0.0
    return max(0.0, (now - _registered(registered_at)).total_seconds() / 86400)


def score(learner: dict, sharer: dict, weights: dict, on: date, now: datetime | None = None,
          sharer_load: int = 0, sharer_region_share: float = 0.0, start_hour: int = 8,
          end_hour: int = 21, explain: bool = True, language: str | None = None
          ) -> tuple[float, str, list[str], list[str]]:
    """(score, connection language, reasons, reason codes) for a pair that passed the hard rules.

    `language` is the connection's language (one both speak); by default the one scoring best.
    With explain=False the reasons are left out (rounds score every feasible pair, then explain
    only the chosen ones)."""
    now = now or datetime.now(timezone.utc)
    if language is None:
        language = max(common_languages(learner, sharer),
                       key=lambda lang: (lang == learner["languages"][0]) + (lang == sharer["languages"][0]))
    firsts = (language == learner["languages"][0]) + (language == sharer["languages"][0])
    minutes, start, end = overlap(learner["timezone"], sharer["timezone"], on, start_hour, end_hour)
    waited = days_waiting(learner.get("registered_at"), now)
    same_region = learner["region"] == sharer["region"]
    total = (weights["language"] * (1 + firsts / 2)
             + weights["overlap"] * min(minutes / 60, 4) / 2
             + weights["waiting"] * min(waited, 60) / 30
             - weights["load"] * 0.5 * sharer_load
             + weights["rare_sharer"] * (1 - sharer_region_share)
             + weights["region"] * (0.5 if same_region else 0))
    if not explain:
        return round(total, 4), language, [], []
    hours = f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    reasons = [f"both speak {language_name(language)}",
               f"{hours} overlap, {start:%H:%M}-{end:%H:%M} UTC",
               f"shares '{topic_label(sharer['topic'])}'"]
    codes = [f"language:{language}", f"overlap:{minutes}", f"topic:{sharer['topic']}"]
    if firsts == 2:
        codes.append("first_language_both")
    if waited >= 14:
        reasons.append(f"waiting for {int(waited)} days")
        codes.append("long_wait")
    if sharer_region_share < 0.1:
        reasons.append("gives space to a sharer from a region rarely heard from")
        codes.append("rare_sharer")
    if same_region:
        reasons.append("same region")
        codes.append("same_region")
    return round(total, 4), language, reasons, codes
