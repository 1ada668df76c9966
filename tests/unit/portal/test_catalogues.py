"""The portal's gettext catalogues: every string of the interface is translated into every language,
no translation drops or invents a placeholder, and the compiled .mo files are those of the .po files.

A missing translation falls back to English at run time (the message ids are the English text), so a
person never sees a message id; these tests list what is missing, per language, so it gets translated.
Fix a failure with `make translations`, then translate the strings it lists.
"""
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


def _source_messages() -> set:
    with open(PORTAL / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    return {message for _file, _line, message, _comments, _context in
            extract_from_dir(str(PORTAL), method_map, options_map, keywords=keywords)}


def _key(message_id):
    return message_id if isinstance(message_id, str) else tuple(message_id)


def _text(string):
    return string if isinstance(string, str) else tuple(string)


def _po(language):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po, locale=language)


def test_every_string_of_the_interface_is_in_the_catalogue_template():
    with open(CATALOGUES / "messages.pot", "rb") as pot:
        template = {_key(m.id) for m in read_po(pot) if m.id}
    in_sources = {_key(m) for m in _source_messages()}
    assert sorted(map(str, in_sources - template)) == [], "new strings: run `make translations`"
    assert sorted(map(str, template - in_sources)) == [], "strings no longer used: run `make translations`"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_string_is_translated(language):
    with open(CATALOGUES / "messages.pot", "rb") as pot:
        wanted = [m.id for m in read_po(pot) if m.id]
    catalogue = _po(language)
    missing = []
    for message_id in wanted:
        message = catalogue.get(message_id)
        strings = () if message is None else (message.string if isinstance(message.string, tuple)
                                              else (message.string,))
        if message is None or message.fuzzy or not all(strings):
            missing.append(message_id)
    assert missing == [], f"{len(missing)} strings not translated into {language}: {missing}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_translation_drops_or_invents_a_placeholder(language):
    for message in _po(language):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, str):
            assert set(PLACEHOLDER.findall(message.string)) == set(PLACEHOLDER.findall(message.id)), message.id
        else:  # plural forms may leave the number out ("one seat left") but never add a name
            allowed = set(PLACEHOLDER.findall(message.id[1]))
            assert all(set(PLACEHOLDER.findall(form)) <= allowed for form in message.string), message.id


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_the_po_file(language):
    """The .mo files are committed (so a fresh clone works without a build step): a .po changed
    without recompiling would ship stale translations."""
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        compiled = {_key(m.id): _text(m.string) for m in read_mo(mo) if m.id}
    written = {_key(m.id): _text(m.string) for m in _po(language) if m.id and m.string and not m.fuzzy}
    assert compiled == written, "run `make translations` (pybabel compile)"
