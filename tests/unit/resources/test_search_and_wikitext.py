"""Search tokens and the Meta-Wiki export, without I/O."""
import re

from services.resources.domain.search import tokens
from services.resources.domain.wikitext import escape, render, unescape


def test_tokens_fold_case_accents_and_arabic_variants():
    assert tokens("Évaluation des PROGRAMMES") == ["des", "evaluation", "programmes"]
    assert tokens("الْمِيزَانِيَّة") == tokens("الميزانية")
    assert tokens("إعداد الميزانيـــة") == tokens("اعداد الميزانية")
    assert "बजट" in tokens("बजट योजना") or "बजट" in "".join(tokens("बजट योजना"))


def resource(**changes):
    data = {"_id": "r1", "title": "Budget basics", "kind": "deck", "url": "https://x.org/a.pdf", "language": "en",
            "topics": ["budget-development"], "license": "CC-BY-SA-4.0", "authors": ["Ahmed"],
            "translations": [{"language": "ar", "title": "أساسيات", "url": "https://x.org/ar.pdf"}]}
    data.update(changes)
    return data


def test_export_groups_by_topic_with_links_licence_and_attribution():
    page = render([resource(), resource(_id="r2", title="Volunteers", topics=["volunteer-management"])])
    assert "=== Budget development ===" in page and "=== Volunteer management, development and recognition ===" in page
    assert "[https://x.org/a.pdf Budget basics]" in page and "[https://x.org/ar.pdf Arabic]" in page
    assert "CC-BY-SA-4.0".replace("-", "-") in page and "Ahmed" in page
    assert page.count('{| class="wikitable sortable"') == page.count("|}") == 2


def test_hostile_text_cannot_break_the_table_or_inject_markup():
    hostile = "A || b |} {{delete}} [[Category:Spam]] <script>x</script> ''bold'' ~~~~ __NOTOC__"
    page = render([resource(title=hostile, authors=["=== x ===", "* item"])])
    row = [line for line in page.splitlines() if line.startswith("| ")][0]
    assert row.count("||") == 5  # the six cells of the table and no more
    for markup in ("{{", "[[", "<script", "''", "~~~~", "|}", "__NOTOC__"):
        assert markup not in row
    assert hostile in unescape(row)
    assert re.search(r"^\|-$", page, re.M)
    assert escape("a\nb") == "a b"


def test_tokens_split_on_punctuation_and_normalise_compatibility_forms():
    assert tokens("ＢＵＤＧＥＴ—planning, 2025!") == ["2025", "budget", "planning"]
    assert tokens("") == tokens(None) == []
    assert tokens("a b") == []  # one-letter ASCII words are noise
    assert tokens("إِدارة، المتطوعين؛ (التدريب)") == sorted({"اداره", "المتطوعين", "التدريب"})
    assert tokens("Straße") == tokens("STRASSE")


def test_escape_neutralises_line_start_markup_and_signatures():
    for hostile in ("* item", "# item", ": indent", "; term", "= heading =", "~~~~", "----"):
        escaped = escape(hostile)
        assert unescape(escaped) == hostile
        assert not escaped.startswith(("*", "#", ":", ";", "=")) and "~~" not in escaped
    assert escape("''b'' [[x]] {{t}} <br>") .count("&") >= 10
