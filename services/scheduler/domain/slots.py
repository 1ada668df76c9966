"""Slot checks (plain functions)."""
from __future__ import annotations

from datetime import datetime


def slot_problems(slots: list[dict], now: datetime) -> dict[int, list[str]]:
    """Per-slot messages (by index) for slots in the past, ending before they start, or duplicated."""
    problems: dict[int, list[str]] = {}
    seen = set()
    for index, slot in enumerate(slots):
        messages = []
        if slot["start"] <= now:
            messages.append("start is in the past")
        if slot["minutes"] <= 0:
            messages.append("the slot must end after it starts")
        if slot["start"] in seen:
            messages.append("two slots start at the same time")
        seen.add(slot["start"])
        if messages:
            problems[index] = messages
    return problems
