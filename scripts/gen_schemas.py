#!/usr/bin/env python3
"""Write the JSON Schemas of prefstore's public models into schemas/ (run after a model changes)."""

from __future__ import annotations

import sys
from pathlib import Path

from prefstore.schemas import render_schemas

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    rendered = render_schemas()
    for stale in SCHEMA_DIR.glob("*.schema.json"):
        if stale.name not in rendered:
            stale.unlink()
    for name, text in rendered.items():
        (SCHEMA_DIR / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(rendered)} schemas to {SCHEMA_DIR}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
