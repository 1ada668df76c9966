"""Message templates (Jinja2): one text template per message and language, one HTML layout.

`templates/<name>.<lang>.txt` holds two blocks, `subject` and `body`. The HTML part is the
same body laid out by `_layout.html` (autoescaped, links made clickable, `dir="rtl"` for
right-to-left languages), unless a `<name>.<lang>.html` exists to say it differently. A
template is "available" in a language when its .txt exists there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import (ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, TemplateError,
                    pass_context, select_autoescape)
from markupsafe import Markup, escape

from shared.clock import as_utc
from shared.languages import language_name, text_direction
from shared.taxonomy import topic_label

TEMPLATE_DIR = Path(__file__).parent.parent / "templates"
_NAME = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\.(?P<lang>[A-Za-z0-9-]+)\.txt$")
_URL = re.compile(r"https?://[^\s<>\"]+")
_SPACES = re.compile(r"[ \t]+\n")
_BLANKS = re.compile(r"\n{3,}")


class RenderError(Exception):
    """A template that cannot produce a message (missing, broken, or fed data it cannot use)."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


@pass_context
def _when(context, value, with_zone: bool = True) -> str:
    """A date and time in the reader's language and time zone."""
    moment = as_utc(value)
    zone = context.get("timezone") or "UTC"
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz, zone = ZoneInfo("UTC"), "UTC"
    lang = context.get("lang") or "en"
    try:
        text = format_datetime(moment, "EEEE d MMMM y, HH:mm", tzinfo=tz, locale=lang.replace("-", "_"))
    except Exception:  # an unknown locale still gets a readable date
        text = moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return f"{text} ({zone})" if with_zone else text


@pass_context
def _topic(context, code: str) -> str:
    return topic_label(code, context.get("lang"))


@pass_context
def _langname(context, code: str | None) -> str:
    """A language's name in the reader's language (CLDR via Babel), else its code."""
    if not code:
        return ""
    return language_name(code, context.get("lang") or "en")


def _paragraphs(text: str) -> Markup:
    """Plain text to HTML: paragraphs, line breaks, clickable links; everything else escaped."""
    blocks = [block.strip("\n") for block in re.split(r"\n\s*\n", text) if block.strip()]
    out = []
    for block in blocks:
        lines = [_linkify(line) for line in block.split("\n")]
        out.append(Markup("<p>") + Markup("<br>\n").join(lines) + Markup("</p>"))
    return Markup("\n").join(out)


def _linkify(line: str) -> Markup:
    parts, last = [], 0
    for match in _URL.finditer(line):
        parts.append(escape(line[last:match.start()]))
        url = match.group(0).rstrip(".,;:)")
        shown = url if len(url) <= 60 else url[:57] + "..."
        parts.append(Markup('<a href="{0}">{1}</a>').format(url, shown))
        last = match.start() + len(url)
    parts.append(escape(line[last:]))
    return Markup("").join(parts)


class TemplateCatalogue:
    def __init__(self, extra_dirs: tuple[str, ...] = ()):
        self.dirs = [Path(d) for d in extra_dirs] + [TEMPLATE_DIR]
        self.env = Environment(
            loader=ChoiceLoader([FileSystemLoader(str(d)) for d in self.dirs]),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
        )
        self.env.filters["when"] = _when
        self.env.filters["topic"] = _topic
        self.env.filters["langname"] = _langname
        self.env.filters["paragraphs"] = _paragraphs
        self._available = self._scan()
        self._exists: dict[str, bool] = {}

    def _scan(self) -> dict[str, frozenset[str]]:
        found: dict[str, set[str]] = {}
        for directory in self.dirs:
            if not directory.is_dir():
                continue
            for path in directory.iterdir():
                match = _NAME.match(path.name)
                if match:
                    found.setdefault(match["name"], set()).add(match["lang"])
        return {name: frozenset(langs) for name, langs in found.items()}

    def languages(self, template: str) -> frozenset[str]:
        return self._available.get(template, frozenset())

    def render(self, template: str, language: str, context: dict) -> Rendered:
        values = {**context, "lang": language, "dir": text_direction(language)}
        try:
            text_template = self.env.get_template(f"{template}.{language}.txt")
            ctx = text_template.new_context(values)
            subject = "".join(text_template.blocks["subject"](ctx))
            body = "".join(text_template.blocks["body"](ctx))
            body = _BLANKS.sub("\n\n", _SPACES.sub("\n", body)).strip() + "\n"
            own_html = f"{template}.{language}.html"
            if self._has(own_html):
                html = self.env.get_template(own_html).render(values, subject=subject)
            else:
                html = self.env.get_template("_layout.html").render(values, subject=subject, body=body)
        except TemplateError as exc:
            raise RenderError(f"template {template}.{language}: {type(exc).__name__}: {exc}") from exc
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise RenderError(f"template {template}.{language}: {type(exc).__name__}: {exc}") from exc
        return Rendered(subject=" ".join(subject.split()), text=body, html=html, language=language)

    def _has(self, name: str) -> bool:
        if name not in self._exists:
            self._exists[name] = any((directory / name).is_file() for directory in self.dirs)
        return self._exists[name]
