"""The figures the program reported after its pilot (GET /stats), from profiles as plain data."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

AFFILIATES = {"chapter", "thematic_org", "user_group"}
# The profile fields the figures read (the store reads only these).
FIELDS = ("region", "group.type", "interests.topic", "interests.direction", "languages", "consent.public_profile",
          "registered_at")


def program_figures(profiles: Iterable[dict], withdrawn: int) -> dict:
    by_region: Counter = Counter()
    by_group_type: Counter = Counter()
    learn: Counter = Counter()
    share: Counter = Counter()
    languages: Counter = Counter()
    by_month: Counter = Counter()  # registrations over time (YYYY-MM of registered_at)
    total = affiliated = sharers = public = 0
    for doc in profiles:
        total += 1
        by_region[doc["region"]] += 1
        if isinstance(doc.get("registered_at"), str):
            by_month[doc["registered_at"][:7]] += 1
        group_type = (doc.get("group") or {}).get("type", "none")
        by_group_type[group_type] += 1
        affiliated += group_type in AFFILIATES
        public += bool(doc.get("consent", {}).get("public_profile"))
        languages.update(doc.get("languages", []))
        shares = False
        for interest in doc.get("interests", []):
            (learn if interest["direction"] == "learn" else share)[interest["topic"]] += 1
            shares = shares or interest["direction"] == "share"
        sharers += shares
    return {
        "participants": total, "withdrawn": withdrawn, "affiliated": affiliated,
        "affiliated_share": round(affiliated / total, 3) if total else 0.0,
        "sharers": sharers, "public_profiles": public,
        "by_region": dict(sorted(by_region.items())), "by_group_type": dict(sorted(by_group_type.items())),
        "by_month": dict(sorted(by_month.items())),
        "languages": dict(languages.most_common(15)),
        "top_learn": [{"topic": t, "count": n} for t, n in learn.most_common(5)],
        "top_share": [{"topic": t, "count": n} for t, n in share.most_common(5)],
    }
