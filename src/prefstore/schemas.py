"""JSON Schemas of the public models, generated from the code.

`scripts/gen_schemas.py` writes them to `schemas/`; a test fails when the files drift from
the code, so the published schemas are always the ones the service enforces.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
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
    "party-input": inputs.PartyInput,
    "party-card": views.PartyCard,
    "party-check-input": inputs.PartyCheckInput,
    "party-check": results.PartyCheck,
    "here-card": views.HereCard,
    "problem": views.Problem,
}


def model_components(
    models: Iterable[Any], ref_template: str = "#/$defs/{name}"
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """msgspec's schemas of `models` (references, components by name), each component with
    its model's `schema_rules` (what its `__post_init__` checks across fields) added: the
    one source of both the published schemas and the OpenAPI document's."""
    models = list(models)
    refs, components = msgspec.json.schema_components(models, ref_template=ref_template)
    for model in _nested_structs(models):
        rules = getattr(model, "schema_rules", None)
        if rules and model.__name__ in components:
            components[model.__name__].update(rules)
    return list(refs), components


def _nested_structs(models: Iterable[Any]) -> Iterable[type[msgspec.Struct]]:
    seen: set[type[msgspec.Struct]] = set()
    todo = list(models)
    while todo:
        model = todo.pop()
        if isinstance(model, type) and issubclass(model, msgspec.Struct) and model not in seen:
            seen.add(model)
            todo.extend(f.type for f in msgspec.structs.fields(model))
        todo.extend(getattr(model, "__args__", ()))
    return seen


def render_schemas(extra: dict[str, Any] | None = None) -> dict[str, str]:
    """File name → JSON text, deterministic (sorted keys, trailing newline)."""
    out: dict[str, str] = {}
    for name, model in {**PUBLIC_MODELS, **(extra or {})}.items():
        (ref,), components = model_components([model])
        schema = {**ref, "$defs": components}
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["title"] = schema.get("title", name)
        out[f"{name}.schema.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return out
