"""Export one versioned JSON Schema per event type: `python -m shared.events.export docs/events`."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.events.catalogue import EVENT_TYPES
from shared.events.envelope import EnvelopeSchema


def _converter():
    plugin = MarshmallowPlugin(schema_name_resolver=lambda schema: None)  # inline nested schemas
    APISpec("events", "1", "3.1.0", plugins=[plugin])
    return plugin.converter


def json_schemas() -> dict[str, dict]:
    """File name -> JSON Schema document, for every event type."""
    converter = _converter()
    envelope = converter.schema2jsonschema(EnvelopeSchema)
    documents = {}
    for name, spec in sorted(EVENT_TYPES.items()):
        data = converter.schema2jsonschema(spec.schema)
        document = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://letsconnect.example/events/{name}.v{spec.version}.json",
            "title": name,
            "description": f"Envelope and data of `{name}` (dataversion {spec.version}); produced by "
                           f"{spec.producer}; message key = data.{spec.key_field}.",
            **envelope,
        }
        document["properties"] = {**envelope["properties"], "type": {"const": name},
                                  "dataversion": {"const": spec.version}, "data": data}
        documents[f"{name}.v{spec.version}.json"] = document
    return documents


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(folder: str = "docs/events") -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        stale.unlink()
    for filename, document in json_schemas().items():
        (out / filename).write_text(render(document), encoding="utf-8")
    print(f"wrote {len(EVENT_TYPES)} event schemas to {out}/")


if __name__ == "__main__":
    main(*sys.argv[1:])
