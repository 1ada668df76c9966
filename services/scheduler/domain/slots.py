"""Slot checks (plain functions)."""
from __future__ import annotations

from datetime import datetime

from services.scheduler.domain.calendar import FURTHEST_AHEAD, slot_problem


def slot_problems(slots: list[dict], now: datetime) -> dict[int, list[str]]:
    """Per-slot messages (by index) for slots in the past, too far ahead, ending before they start,
    duplicated, or that the calendars could not render."""
    problems: dict[int, list[str]] = {}
    seen = set()
    for index, slot in enumerate(slots):
        messages = []
        if slot["start"] <= now:
            messages.append("start is in the past")
        elif slot["start"] > now + FURTHEST_AHEAD:
            messages.append("start is more than five years ahead")
        if slot["minutes"] <= 0:
            messages.append("the slot must end after it starts")
        if slot["start"] in seen:
            messages.append("two slots start at the same time")
        seen.add(slot["start"])
        if not messages and (problem := slot_problem(slot, now)):
            messages.append(f"the calendar cannot show this slot: {problem}")
        if messages:
            problems[index] = messages
    return problems
