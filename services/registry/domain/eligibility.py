"""The program's eligibility checklist as a pure function.

From the program description: Let's Connect is for Wikimedians who are part of an organised
group (recognised or not), who have a role in it (volunteer, core team, board, or at least
actively contributing to the organisation), and who want to learn or share skills that benefit
wider groups, not only their own editing. It is not for individuals outside any organised group,
newcomers who want wiki skills for their own contributions, or people doing no organiser work.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from services.registry.domain.errors import NotEligible

ORGANISER_ROLES = {"volunteer", "core_team", "board", "staff", "active_contributor"}
GROUP_PURPOSES = {"organising", "training_others"}

ALTERNATIVES = {
    "no_organised_group": {
        "code": "join_a_group",
        "text": "Join or start a group near you: the movement's affiliates (chapters, user groups, thematic "
                "organisations) welcome volunteers, and you can apply to Let's Connect as part of one.",
        "url": "https://meta.wikimedia.org/wiki/Wikimedia_movement_affiliates",
    },
    "no_organiser_role": {
        "code": "take_a_role",
        "text": "Talk with your group about helping to organise (events, trainings, planning); once you do, "
                "you are welcome to apply.",
        "url": "https://meta.wikimedia.org/wiki/Grants:Knowledge_Sharing/Connect",
    },
    "own_editing_only": {
        "code": "learn_editing",
        "text": "To build editing skills for your own contributions, start with the help pages and tutorials "
                "of your wiki, and the trainings your local affiliate or user group runs for newcomers.",
        "url": "https://meta.wikimedia.org/wiki/Training_modules",
    },
}

REASONS = {
    "no_organised_group": "You are not part of an organised group. Let's Connect is for Wikimedians in a "
                          "chapter, thematic organisation, user group or unrecognised group that plans and "
                          "carries out Wikimedia work together.",
    "no_organiser_role": "You have no role in your group. Participants volunteer, serve on the core team or "
                         "board, work as staff, or at least actively contribute to the organisation.",
    "own_editing_only": "You want to learn only for your own editing. Let's Connect is for skills that benefit "
                        "wider groups: organising, planning, events, evaluation, or training others.",
}


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    reasons: list[dict] = field(default_factory=list)
    alternatives: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"eligible": self.eligible, "reasons": self.reasons, "alternatives": self.alternatives}


def check(group: dict | None, role: str, purpose: str) -> Verdict:
    """The verdict and, for each unmet criterion, the reason in plain words and where to learn instead."""
    unmet = []
    if not group:
        unmet.append("no_organised_group")
    if role not in ORGANISER_ROLES:
        unmet.append("no_organiser_role")
    if purpose not in GROUP_PURPOSES:
        unmet.append("own_editing_only")
    return Verdict(
        eligible=not unmet,
        reasons=[{"code": code, "text": REASONS[code]} for code in unmet],
        alternatives=[ALTERNATIVES[code] for code in unmet],
    )


def require_eligible(group: dict | None, role: str, purpose: str) -> Verdict:
    """The verdict when every criterion is met; NotEligible (carrying the verdict) otherwise."""
    verdict = check(group, role, purpose)
    if not verdict.eligible:
        raise NotEligible(verdict)
    return verdict
