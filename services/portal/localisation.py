"""Each request's language and time zone, the gettext catalogues (flask-babel), and the helpers
templates use to write dates, times, numbers and names the way the reader does."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from babel.lists import format_list
from babel.numbers import format_decimal
from flask import Flask, g, request, session
from flask_babel import Babel
from markupsafe import Markup, escape

from shared.languages import language_name

from services.portal import credentials
from services.portal.domain import languages, times

LANGUAGE_COOKIE = "lc_lang"
ZONE_COOKIE = "lc_tz"
ONE_YEAR = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).parent / "translations"


def _choose() -> None:
    g.language = languages.interface_language(request.args.get("lang"), request.cookies.get(LANGUAGE_COOKIE),
                                              request.accept_languages)
    g.direction = languages.direction(g.language)
    g.zone = times.viewer_zone(request.args.get("tz"), request.cookies.get(ZONE_COOKIE))
    g.zone_chosen = g.zone != times.UTC_NAME or times.is_zone(request.cookies.get(ZONE_COOKIE))


def _remember(response, secure: bool):
    """A language or zone picked with the switch (?lang=, ?tz=) holds for the next pages too."""
    chosen = languages.supported(request.args.get("lang"))
    if chosen:
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=ONE_YEAR, samesite="Lax", httponly=True, secure=secure)
    zone = request.args.get("tz")
    if times.is_zone(zone):
        response.set_cookie(ZONE_COOKIE, zone, max_age=ONE_YEAR, samesite="Lax", secure=secure)
    response.vary.add("Accept-Language")
    response.vary.add("Cookie")
    return response


def _switch_url(code: str) -> str:
    args = {key: value for key, value in request.args.items() if key != "lang"}
    return f"{request.path}?{urlencode({**args, 'lang': code})}"


@lru_cache(maxsize=16)
def _language_options_html(reader: str) -> str:
    return "".join(f'<option value="{escape(code)}">{escape(name)}</option>'
                   for code, name in languages.language_options(reader))


@lru_cache(maxsize=16)
def _zone_options_html(reader: str) -> str:
    return "".join(f'<option value="{escape(zone)}">{escape(label)}</option>'
                   for zone, label in times.zone_options(reader))


def language_options_html(reader: str, selected: str | None = None) -> Markup:
    """The ~300 <option>s of a language list, built once per reader's language (a page has up to four)."""
    html = _language_options_html(reader)
    if selected:
        mark = f'<option value="{escape(selected)}">'
        html = html.replace(mark, mark[:-1] + " selected>", 1)
    return Markup(html)


def _helpers() -> dict:
    language = g.get("language", languages.FALLBACK)
    zone = g.get("zone", times.UTC_NAME)
    return {
        "page_language": language,
        "page_direction": g.get("direction", "ltr"),
        "language_switch": [(code, name, _switch_url(code), code == language)
                            for code, name in languages.interface_choices()],
        "language_name": lambda code: language_name(code, language),
        "language_options": lambda selected=None: language_options_html(language, selected),
        "zone_options": lambda: Markup(_zone_options_html(language)),
        "viewer_zone": zone,
        "viewer_zone_name": times.zone_name(zone, language),
        "zone_chosen": g.get("zone_chosen", False),
        "slot_time": lambda slot: times.slot_time(slot["start"], slot["minutes"], language, zone),
        "day": lambda value: times.day(value, language, zone),
        "number": lambda value: format_decimal(value, locale=language),
        "listing": lambda items, name=str: format_list([name(item) for item in items], locale=language) if items else "",
        "notice": _notice(),
        "signed_in": credentials.signed_in() is not None,
    }


def _notice():
    """What the last POST did, shown once on the page it led to (api.py `_tell`)."""
    kept = session.pop("notice", None) if "notice" in session else None
    return kept if isinstance(kept, list) and len(kept) == 2 else None


def init_localisation(app: Flask, secure_cookies: bool) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = languages.FALLBACK
    Babel(app, locale_selector=lambda: g.get("language", languages.FALLBACK),
          timezone_selector=lambda: g.get("zone", times.UTC_NAME))
    app.before_request(_choose)
    app.after_request(lambda response: _remember(response, secure_cookies))
    app.context_processor(_helpers)
