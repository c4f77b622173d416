"""JSON Schemas of the public models, generated from the code.

`scripts/gen_schemas.py` writes them to `schemas/`; a test fails when the files drift from
the code, so the published schemas are always the ones the service enforces.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from prefstore import models

PUBLIC_MODELS: dict[str, Any] = {
    "customer-create": models.CustomerCreate,
    "customer-patch": models.CustomerPatch,
    "allergy-input": models.AllergyInput,
    "preference-input": models.PreferenceInput,
    "note-input": models.NoteInput,
    "event-input": models.EventInput,
    "card": models.Card,
    "event-page": models.EventPage,
    "event-recorded": models.EventRecorded,
    "customer-export": models.CustomerExport,
    "customer-record": models.CustomerRecord,
    "change-entry": models.ChangeEntry,
    "audit-trail": models.AuditTrail,
    "import-summary": models.ImportSummary,
    "search-result": models.SearchResult,
    "recall-result": models.RecallResult,
    "cart-check-input": models.CartCheckInput,
    "cart-check": models.CartCheck,
    "error": models.ErrorBody,
}


def render_schemas(extra: dict[str, Any] | None = None) -> dict[str, str]:
    """File name → JSON text, deterministic (sorted keys, trailing newline)."""
    out: dict[str, str] = {}
    for name, model in {**PUBLIC_MODELS, **(extra or {})}.items():
        schema = msgspec.json.schema(model)
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = schema.get("title", name)
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out
