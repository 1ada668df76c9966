"""The console's gettext catalogue (domain `staff`, issue 15): every string of the console is in
staff.pot and translated into ar, es, fr and pt, placeholders kept, the .mo files compiled from
the .po files; and the portal's own catalogue does not collect the console's strings."""
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from shared.languages import INTERFACE_LANGUAGES

PORTAL = Path(__file__).resolve().parents[3] / "services" / "portal"
CATALOGUES = PORTAL / "translations"
TRANSLATED = [code for code in INTERFACE_LANGUAGES if code != "en"]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _messages(mapping: str) -> set:
    with open(PORTAL / mapping, encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    return {message if isinstance(message, str) else tuple(message) for _f, _l, message, _c, _x in
            extract_from_dir(str(PORTAL), method_map, options_map, keywords={**DEFAULT_KEYWORDS, "N_": None})}


def _po(language):
    with open(CATALOGUES / language / "LC_MESSAGES" / "staff.po", "rb") as po:
        return read_po(po, locale=language)


def test_the_console_template_holds_exactly_the_consoles_strings():
    with open(CATALOGUES / "staff.pot", "rb") as pot:
        template = {m.id for m in read_po(pot) if m.id}
    in_sources = _messages("staff_babel.cfg")
    assert sorted(in_sources - template) == [], "new console strings: run `make translations`"
    assert sorted(template - in_sources) == [], "console strings no longer used: run `make translations`"
    assert "Not for your role" in in_sources and "Not for your role" not in _messages("babel.cfg")


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_console_string_is_translated_with_its_placeholders(language):
    with open(CATALOGUES / "staff.pot", "rb") as pot:
        wanted = [m.id for m in read_po(pot) if m.id]
    catalogue = _po(language)
    missing = [m for m in wanted if catalogue.get(m) is None or not catalogue.get(m).string or catalogue.get(m).fuzzy]
    assert missing == []
    for message in catalogue:
        if message.id and message.string:
            assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(message.id)), message.id


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_console_catalogue_is_the_po_file(language):
    with open(CATALOGUES / language / "LC_MESSAGES" / "staff.mo", "rb") as mo:
        compiled = {m.id: m.string for m in read_mo(mo) if m.id}
    assert compiled == {m.id: m.string for m in _po(language) if m.id and m.string and not m.fuzzy}
