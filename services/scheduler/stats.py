"""GET /stats: the program's figures (domain/figures.py) from what the store holds."""
from __future__ import annotations

from services.scheduler.domain.figures import confirmed_by_clinic, program_stats
from services.scheduler.store import Store


def stats(store: Store) -> dict:
    clinics, feedback = store.figures_input()
    return {**program_stats(clinics, confirmed_by_clinic(clinics), feedback), **store.counts()}
