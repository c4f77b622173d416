"""JSON Schemas of the public models, generated from the code.

`scripts/gen_schemas.py` writes them to `schemas/`; a test fails when the files drift from
the code, so the published schemas are always the ones the service enforces.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from prefstore.models import inputs, records, results, views

PUBLIC_MODELS: dict[str, Any] = {
    "customer-create": inputs.CustomerCreate,
    "customer-patch": inputs.CustomerPatch,
    "allergy-input": inputs.AllergyInput,
    "allergy-change": inputs.AllergyChange,
    "preference-input": inputs.PreferenceInput,
    "note-input": inputs.NoteInput,
    "event-input": inputs.EventInput,
    "card": views.Card,
    "event-page": views.EventPage,
    "event-recorded": views.EventRecorded,
    "customer-export": views.CustomerExport,
    "customer-record": records.CustomerRecord,
    "change-entry": records.ChangeEntry,
    "audit-trail": views.AuditTrail,
    "import-summary": results.ImportSummary,
    "search-result": results.SearchResult,
    "recall-result": results.RecallResult,
    "cart-check-input": inputs.CartCheckInput,
    "cart-check": results.CartCheck,
    "error": views.ErrorBody,
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
