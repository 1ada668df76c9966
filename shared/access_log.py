"""Access-log lines without tokens: links in emails carry `?token=...` and clients send bearer
tokens, and neither may end up in a log file (docs/security.md).

`RedactingLogger` is gunicorn's logger with every access-log atom redacted; gunicorn loads it
through shared/gunicorn_config.py (`--config=python:shared.gunicorn_config`).
"""
from __future__ import annotations

import re

from gunicorn.glogging import Logger

REDACTED = "[redacted]"
_TOKEN_PARAMETER = re.compile(r"(?i)((?:^|[?&;\s\"'])(?:[a-z_]*token|signature|secret)=)[^&;\s\"']*")
_SIGNED_TOKEN = re.compile(r"\blc1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)\S+")


def redact(text: str) -> str:
    """`token=` (and `*_token=`, `signature=`, `secret=`) values, signed `lc1.` tokens and bearer
    credentials replaced by [redacted]; everything else as it was."""
    text = _TOKEN_PARAMETER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SIGNED_TOKEN.sub("lc1." + REDACTED, text)
    return _BEARER.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if key in ("{authorization}i", "{cookie}i", "{http_authorization}e", "{http_cookie}e"):
                atoms[key] = REDACTED
            elif isinstance(value, str):
                atoms[key] = redact(value)
        return atoms
