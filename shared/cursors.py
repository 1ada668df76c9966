"""Opaque page cursors for `{"items": [...], "next": cursor-or-null}` lists.

A cursor carries the sort key of the last item a page showed, as base64url JSON, so a client
cannot mistake it for an id and a service can change what it holds without breaking clients.
"""
from __future__ import annotations

import base64
import binascii
import json

MAX_CURSOR_LENGTH = 512


class CursorInvalid(ValueError):
    """Not a cursor this service handed out (the route answers 422 naming `cursor`)."""


def encode_cursor(position) -> str:
    """`position`: any JSON value (a key, or a list of sort values)."""
    raw = json.dumps(position, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str):
    if not isinstance(cursor, str) or not cursor or len(cursor) > MAX_CURSOR_LENGTH or not cursor.isascii():
        raise CursorInvalid("not a cursor from a previous page")
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise CursorInvalid("not a cursor from a previous page") from exc
