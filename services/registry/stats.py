"""GET /stats: the figures the program reported after its pilot (domain/figures.py computes them)."""
from __future__ import annotations

from services.registry.domain.figures import FIELDS, program_figures
from services.registry.store import Store


def stats(store: Store) -> dict:
    return program_figures(store.profiles_for_figures(FIELDS), store.withdrawn_count())
