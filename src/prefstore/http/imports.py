"""POST /v1/imports: a streamed CSV or NDJSON body through the same importer as the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, post
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromQuery, Parameter

from prefstore.errors import TooLarge
from prefstore.http.auth import require_scope
from prefstore.http.deps import AllServices, Caller
from prefstore.http.metrics import IMPORTS_RUNNING, ImportProgress
from prefstore.http.openapi import problems
from prefstore.models.results import ImportSummary
from prefstore.transfer import ImportOptions, Mapping
from prefstore.transfer.child import run_apart
from prefstore.transfer.readers import Format

MAX_IMPORT_BODY_BYTES = 256 * 1024 * 1024
"""Bigger files go through `prefstore import` (or several requests)."""
MAX_IMPORT_INPUT_BYTES = 1024 * 1024 * 1024
"""Decompressed input of one request: gzip may inflate ~200x, this bounds the work."""

_FORMATS: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/json-lines": "ndjson",
}


_BODIES = {
    "text/csv": "CSV with a header row (`,`, `;` or tab between fields)",
    "application/x-ndjson": "NDJSON: one JSON object per line",
    "application/octet-stream": "CSV or NDJSON: the format from `format=`, else sniffed",
}


@dataclass
class ImportOperation(Operation):
    """The import's body, which the handler streams itself (so Litestar cannot see it)."""

    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            required=True,
            description=(
                "The file as it is. Any of these may be gzip-compressed: it is recognised by "
                "its first bytes (no `Content-Encoding` needed). `application/csv`, "
                "`application/ndjson` and `application/jsonl` are read as their names say."
            ),
            content={
                media_type: OpenAPIMediaType(
                    schema=Schema(
                        type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY, description=what
                    )
                )
                for media_type, what in _BODIES.items()
            },
        )


def _format_of(content_type: str, explicit: str | None) -> Format | None:
    if explicit is not None:
        return "csv" if explicit == "csv" else "ndjson"
    return _FORMATS.get(content_type.split(";")[0].strip().lower())


@post(
    "/v1/imports",
    guards=[require_scope],
    opt={"scope": "import"},
    status_code=200,
    request_max_body_size=MAX_IMPORT_BODY_BYTES,
    tags=["import"],
    summary="Import customers from a CSV or NDJSON body (optionally gzip)",
    operation_class=ImportOperation,
    operation_id="importCustomers",
    responses=problems(400, 413, 422),
    description=(
        "Upsert by CRM id, else email or phone; safe to repeat. Body: `text/csv` or "
        "`application/x-ndjson` (or `format=`), gzip recognised (at most 1 GiB once "
        "decompressed: 413 past it). Returns the summary with the first 1000 rejected rows "
        "(line, field, reason), `rejected` counting all and `rejections_truncated` set when "
        "more were refused; the CLI (`prefstore import --rejects FILE`) writes every one. "
        "`dry_run=true` writes nothing. Times without an offset are read as UTC."
    ),
)
async def create_import(
    request: Request[Any, Any, Any],
    services: AllServices,
    who: Caller,
    preset: Annotated[str, Parameter(max_length=32)] = "auto",
    dry_run: FromQuery[bool] = False,
    format: Annotated[str | None, Parameter(pattern="^(csv|ndjson)$")] = None,
    column: Annotated[
        list[str] | None,
        Parameter(max_items=200, description="COLUMN=TARGET mappings, repeatable"),
    ] = None,
) -> ImportSummary:
    mapping = Mapping.build(preset, None, tuple(column or ()))
    options = ImportOptions(
        mapping=mapping,
        format=_format_of(request.headers.get("content-type", ""), format),
        dry_run=dry_run,
        actor=who.name,
        keep_rejections=True,
        retry_seconds=5.0,
        max_bytes=MAX_IMPORT_INPUT_BYTES,
    )

    async def body() -> AsyncIterator[bytes]:
        # request.stream() enforces the route limit too; this check reads the module value
        # at run time so the limit can be changed (and tested) without rebuilding the app.
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > MAX_IMPORT_BODY_BYTES:
                raise TooLarge(f"import bodies are limited to {MAX_IMPORT_BODY_BYTES} bytes")
            yield chunk

    # In a child process: the row work never competes with the lookups this process serves.
    with IMPORTS_RUNNING.track_inprogress():
        return await run_apart(services.importer, body(), options, ImportProgress())
