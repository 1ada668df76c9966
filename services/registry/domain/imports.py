"""CSV rows as a registration form exports them -> registration bodies (pure).

Default columns (a mapping renames them): username, name, email, languages, timezone, region,
group_name, group_type, role, purpose, activities, learn_topics, share_topics, public_profile,
share_contact, recording. Lists are separated by ';' or ','; yes/no, true/false, 1/0 for consent.
"""
from __future__ import annotations

import csv
import io
import re

COLUMNS = ("username", "name", "email", "languages", "timezone", "region", "group_name", "group_type", "role",
           "purpose", "activities", "learn_topics", "share_topics", "public_profile", "share_contact", "recording")
MAX_ROWS = 5000
_SPLIT = re.compile(r"\s*[;,]\s*")
_TRUE = {"yes", "y", "true", "1", "oui", "sí", "si", "نعم"}


class ImportFileError(ValueError):
    pass


def _list(value: str) -> list[str]:
    return [item for item in _SPLIT.split(value.strip()) if item] if value else []


def _flag(value: str) -> bool:
    return (value or "").strip().casefold() in _TRUE


def read_rows(text: str, mapping: dict[str, str] | None = None, delimiter: str | None = None) -> list[dict]:
    """Rows keyed by our column names; raises ImportFileError when a required column is missing."""
    mapping = mapping or {}
    unknown = set(mapping) - set(COLUMNS)
    if unknown:
        raise ImportFileError(f"mapping names unknown columns: {', '.join(sorted(unknown))}")
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=delimiter)
    try:
        headers = {h.strip(): h for h in (reader.fieldnames or [])}
    except csv.Error as exc:
        raise ImportFileError(f"the header line cannot be read: {exc}") from exc
    source = {ours: mapping.get(ours, ours) for ours in COLUMNS}
    missing = [f"{ours} (column {theirs!r})" for ours, theirs in source.items()
               if theirs not in headers and ours in ("username", "email")]
    if missing:
        raise ImportFileError("missing required columns: " + ", ".join(missing))
    rows = []
    try:
        for raw in reader:
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"more than {MAX_ROWS} rows; split the file")
            rows.append({ours: (raw.get(headers.get(theirs, theirs)) or "").strip() for ours, theirs in source.items()})
    except csv.Error as exc:  # an oversized field, a NUL byte, a broken quote
        raise ImportFileError(f"line {reader.line_num}: {exc}") from exc
    return rows


def row_to_body(row: dict) -> dict:
    """A registration body as POST /participants takes it (validated by the same schema)."""
    group = None
    if row["group_name"]:
        group = {"name": row["group_name"], "type": row["group_type"] or "user_group"}
    interests = [{"topic": t, "direction": "learn"} for t in _list(row["learn_topics"])]
    interests += [{"topic": t, "direction": "share"} for t in _list(row["share_topics"])]
    return {
        "username": row["username"], "name": row["name"] or row["username"], "email": row["email"],
        "languages": _list(row["languages"]), "timezone": row["timezone"], "region": row["region"].lower(),
        "group": group, "role": row["role"] or "volunteer", "purpose": row["purpose"] or "organising",
        "activities": _list(row["activities"]), "interests": interests,
        "consent": {"public_profile": _flag(row["public_profile"]), "share_contact": _flag(row["share_contact"]),
                    "recording": _flag(row["recording"])},
    }


class ImportReport:
    """What became of each row: created, updated, unchanged or rejected (with why)."""

    def __init__(self) -> None:
        self.summary = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        self.rows: list[dict] = []

    def record(self, row: int, status: str, **details) -> None:
        self.summary[status] += 1
        self.rows.append({"row": row, "status": status, **details})

    def as_dict(self) -> dict:
        return {"summary": dict(self.summary), "rows": list(self.rows)}


def row_outcome(existing: dict | None, saved: dict) -> str:
    """created (no profile had the username), updated (a new revision) or unchanged."""
    if existing is None:
        return "created"
    return "unchanged" if saved["revision"] == existing["revision"] else "updated"


FIRST_DATA_LINE = 2  # line 1 is the header
