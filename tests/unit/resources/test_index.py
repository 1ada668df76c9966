"""The in-process search read model, without a database."""
from datetime import datetime, timezone

from services.resources.domain.index import SearchIndex
from services.resources.domain.search import tokens


def doc(i, title, at, **fields):
    return {"_id": f"r{i}", "tokens": tokens(title), "topics": fields.get("topics", ["budget-development"]),
            "language": fields.get("language", "en"), "kind": fields.get("kind", "deck"),
            "clinic_id": fields.get("clinic_id"), "published_at": at, "updated_at": fields.get("updated_at", at)}


def build():
    index = SearchIndex()
    index.refresh(now=datetime(2026, 1, 5, 12, tzinfo=timezone.utc), load=lambda since: [
        doc(1, "Budget planning", "2026-01-01T00:00:00.000Z"),
        doc(2, "تخطيط الميزانية", "2026-01-02T00:00:00.000Z", language="ar", kind="guideline"),
        doc(3, "Budget review", "2026-01-03T00:00:00.000Z", topics=["evaluation"]),
        doc(4, "Volunteers", "2026-01-04T00:00:00.000Z", clinic_id="c1")])
    return index


def test_words_and_filters_newest_first():
    index = build()
    assert index.search(tokens("budget")) == ["r3", "r1"]
    assert index.search(tokens("BUDGET planning")) == ["r1"]
    assert index.search(tokens("الميزانيّة")) == ["r2"]
    assert index.search(tokens("nothing here")) == []
    assert index.search([], topic="budget-development", kind="deck") == ["r4", "r1"]
    assert index.search([], language="ar") == ["r2"] and index.search([], clinic="c1") == ["r4"]


def test_pages_follow_the_order_without_overlap():
    index = build()
    first = index.search([], limit=2)
    assert first == ["r4", "r3"]
    assert index.search([], limit=2, before=("2026-01-03T00:00:00.000Z", "r3")) == ["r2", "r1"]


def test_refresh_reads_changes_since_the_watermark_with_an_overlap_and_forget_drops():
    index = build()
    seen = []

    def load(since):
        seen.append(since)
        return [doc(1, "Fundraising", "2026-01-01T00:00:00.000Z", updated_at="2026-01-05T00:00:00.000Z")]

    index.refresh(load, now=datetime(2026, 1, 5, 12, 30, tzinfo=timezone.utc))
    index.refresh(load, now=datetime(2026, 1, 5, 13, tzinfo=timezone.utc))
    assert seen == ["2026-01-05T11:59:55.000Z",  # since the refresh of build(), minus the overlap
                    "2026-01-05T12:29:55.000Z"]
    assert index.search(tokens("planning")) == [] and index.search(tokens("fundraising")) == ["r1"]
    assert index.watermark == "2026-01-05T00:00:00.000Z"
    index.forget("r1")
    index.forget("r1")
    assert index.search(tokens("fundraising")) == [] and len(index) == 3
