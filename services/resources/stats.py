"""GET /stats: the resource space by kind, language and topic (domain/figures.py computes them)."""
from __future__ import annotations

from services.resources.domain.figures import FIELDS, space_figures
from services.resources.store import Store


def stats(store: Store) -> dict:
    return space_figures(store.all_resources(FIELDS), store.open_request_count())
