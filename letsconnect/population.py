"""A seeded, realistic population of organisers for the demo and the benchmarks.

Regions, languages, time zones and groups are spread roughly as in the movement; interests
are weighted towards the pilot's five most wanted skills; a few applicants do not meet the
program's checklist (no organised group, or only their own editing), as in real intake.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from shared.taxonomy import base_taxonomy, base_topics

# region -> (weight, languages with weights, time zones)
REGIONS: dict[str, tuple[float, list[tuple[str, float]], list[str]]] = {
    "mena": (0.14, [("ar", 0.8), ("fr", 0.25), ("en", 0.5), ("fa", 0.1)],
             ["Africa/Cairo", "Africa/Casablanca", "Asia/Amman", "Africa/Tunis", "Asia/Baghdad", "Asia/Tehran"]),
    "ssa": (0.17, [("en", 0.7), ("fr", 0.35), ("sw", 0.2), ("yo", 0.1), ("pt", 0.08), ("ha", 0.08)],
            ["Africa/Lagos", "Africa/Accra", "Africa/Nairobi", "Africa/Kampala", "Africa/Dakar",
             "Africa/Johannesburg", "Africa/Kinshasa"]),
    "sa": (0.13, [("en", 0.8), ("hi", 0.45), ("bn", 0.2), ("ur", 0.15), ("ta", 0.1), ("ne", 0.05)],
           ["Asia/Kolkata", "Asia/Dhaka", "Asia/Karachi", "Asia/Kathmandu", "Asia/Colombo"]),
    "esea": (0.13, [("en", 0.6), ("id", 0.3), ("zh", 0.15), ("vi", 0.1), ("th", 0.08), ("tl", 0.1), ("ko", 0.05)],
             ["Asia/Jakarta", "Asia/Manila", "Asia/Bangkok", "Asia/Taipei", "Asia/Seoul", "Australia/Sydney"]),
    "ceeca": (0.12, [("en", 0.6), ("ru", 0.4), ("uk", 0.15), ("pl", 0.1), ("tr", 0.1), ("hy", 0.05)],
              ["Europe/Kyiv", "Europe/Warsaw", "Europe/Istanbul", "Asia/Yerevan", "Asia/Tbilisi", "Europe/Belgrade"]),
    "nwe": (0.13, [("en", 0.8), ("de", 0.25), ("fr", 0.25), ("nl", 0.1), ("es", 0.1), ("sv", 0.05)],
            ["Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Amsterdam", "Europe/Stockholm"]),
    "lac": (0.12, [("es", 0.75), ("pt", 0.3), ("en", 0.4)],
            ["America/Mexico_City", "America/Bogota", "America/Sao_Paulo", "America/Argentina/Buenos_Aires",
             "America/Lima", "America/Santiago"]),
    "usca": (0.06, [("en", 0.95), ("es", 0.2), ("fr", 0.1)],
             ["America/New_York", "America/Chicago", "America/Los_Angeles", "America/Toronto", "America/St_Johns"]),
}
GROUP_TYPES = [("user_group", 0.5), ("chapter", 0.25), ("thematic_org", 0.1), ("unrecognized_group", 0.15)]
GROUP_WORDS = ["Wikimedians of", "Wikimedia", "Wiki Loves Heritage", "WikiWomen", "Wikidata Community",
               "Open Knowledge", "Art+Feminism", "Wiki Education"]
PLACES = {
    "mena": ["Egypt", "Morocco", "Jordan", "Tunisia", "Iraq", "Algeria"],
    "ssa": ["Nigeria", "Ghana", "Kenya", "Uganda", "Senegal", "South Africa", "Cameroon"],
    "sa": ["India", "Bangladesh", "Pakistan", "Nepal", "Sri Lanka"],
    "esea": ["Indonesia", "Philippines", "Thailand", "Taiwan", "Korea", "Australia"],
    "ceeca": ["Ukraine", "Poland", "Turkey", "Armenia", "Georgia", "Serbia"],
    "nwe": ["UK", "Germany", "France", "Netherlands", "Sweden"],
    "lac": ["Mexico", "Colombia", "Brazil", "Argentina", "Peru", "Chile"],
    "usca": ["New York", "Chicago", "Canada", "California"],
}
ROLES = [("volunteer", 0.35), ("core_team", 0.25), ("board", 0.15), ("staff", 0.1), ("active_contributor", 0.15)]
ACTIVITIES = ["training", "events", "campaigns", "edit-a-thons", "partnerships", "grant-writing", "outreach"]
FIRST_NAMES = ["Amina", "Ahmed", "Chinedu", "Fatima", "Ravi", "Priya", "Siti", "Jose", "Maria", "Olena",
               "Kwame", "Lucia", "Arjun", "Yuki", "Sofia", "Omar", "Zanele", "Tomasz", "Ana", "Hassan",
               "أمينة", "محمد", "प्रिया", "Nguyễn", "Ayşe"]


@dataclass(frozen=True)
class Applicant:
    body: dict
    eligible: bool


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    names, weights = zip(*weighted)
    return rng.choices(names, weights=weights, k=1)[0]


def _topic_weights() -> list[tuple[str, float]]:
    top = base_taxonomy()["pilot_top_learn"]
    return [(code, 6.0 - top.index(code) if code in top else (1.5 if topic.get("hot") else 0.7))
            for code, topic in base_topics().items()]


def _languages(rng: random.Random, region: str) -> list[str]:
    chosen = [lang for lang, weight in REGIONS[region][1] if rng.random() < weight]
    if not chosen:
        chosen = [REGIONS[region][1][0][0]]
    rng.shuffle(chosen)
    return chosen[:3]


def applicant(rng: random.Random, index: int, ineligible_share: float = 0.05, run: str = "") -> Applicant:
    """The `index`th applicant; `run` (a short tag) keeps usernames and emails apart between runs
    on the same data, so a demo can register again without colliding with the people it made before."""
    region = _pick(rng, [(name, spec[0]) for name, spec in REGIONS.items()])
    place = rng.choice(PLACES[region])
    group_type = _pick(rng, GROUP_TYPES)
    first = rng.choice(FIRST_NAMES)
    username = f"{first} {index:05d}" + (f" {run}" if run else "")
    topics = _topic_weights()
    learn = []
    for _ in range(rng.choice([1, 1, 2, 2, 3])):
        code = _pick(rng, topics)
        if code not in learn:
            learn.append(code)
    share = []
    if rng.random() < 0.35:
        for _ in range(rng.choice([1, 2])):
            code = _pick(rng, topics)
            if code not in share and code not in learn:
                share.append(code)
    interests = [{"topic": t, "direction": "learn", "level": rng.choice(["beginner", "intermediate"])} for t in learn]
    interests += [{"topic": t, "direction": "share", "note": "We ran this in our community and can show how.",
                   "level": "advanced"} for t in share]
    body = {
        "username": username, "name": f"{first} {place}",
        "email": f"organiser{index:05d}{'.' + run if run else ''}@example.org",
        "languages": _languages(rng, region), "timezone": rng.choice(REGIONS[region][2]), "region": region,
        "group": {"name": f"{rng.choice(GROUP_WORDS)} {place}", "type": group_type},
        "role": _pick(rng, ROLES), "purpose": rng.choice(["organising", "organising", "training_others"]),
        "activities": rng.sample(ACTIVITIES, k=rng.randint(1, 3)), "interests": interests,
        "consent": {"public_profile": rng.random() < 0.8, "share_contact": rng.random() < 0.85,
                    "recording": rng.random() < 0.7},
    }
    eligible = True
    if rng.random() < ineligible_share:
        eligible = False
        if rng.random() < 0.5:
            body["group"] = None  # not part of any organised group
        else:
            body["purpose"], body["role"] = "own_editing", "none"  # only wants skills for their own editing
    return Applicant(body, eligible)


def population(size: int, seed: int = 2022, ineligible_share: float = 0.05, run: str = "") -> list[Applicant]:
    rng = random.Random(seed)
    return [applicant(rng, index, ineligible_share, run) for index in range(size)]
