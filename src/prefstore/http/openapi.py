"""The OpenAPI document: each route's problem answers, and the rules the whole document
follows, applied in one place when it is built.

Routes say which problems they can answer with `problems(…)` (Litestar `ResponseSpec`s with
the `Problem` model). `DocumentConfig` builds the document as Litestar does, then `complete`
applies what holds for every route, read from the code it describes:

- the schemas of our models are msgspec's own, as `schemas/` publishes them
  (`prefstore.schemas.model_components`): Litestar's conversion drops what msgspec enforces
  inside lists and dict keys (`phones[0]` at least 3 characters, identifier kinds by
  pattern), that input models are closed (`additionalProperties: false`), and the rules a
  model checks across its fields (`schema_rules`);
- every property of an answer is `required`: msgspec writes every field of a Struct unless
  it omits defaults, and the one model that does (`Problem`) is an error, not an answer. The
  exception is a card stored before a field existed (`MAY_BE_ABSENT`): it is served as stored;
- a parameter is absent or a value, never JSON `null` (Litestar lists `str | None` so);
- a route behind an API key can answer 401, 403, 429 and 503 (`KEYED`);
- every error answer is a `Problem` (`http/errors.py` answers nothing else), including the
  400 Litestar lists on any route with parameters;
- a problem answer carries the headers `http/errors.py` always sets on it (`Retry-After` on
  429 and 503, the `RateLimit` fields on 429, `WWW-Authenticate` on 401);
- a card answer carries its `ETag` (`http/responses.py` sets it on every card);
- the paths `http/auth.py` leaves public need no key (`security: []`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from typing import Any

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.spec import OpenAPI
from litestar.types import Method, OperationIDCreator
from litestar.types.internal_types import PathParameterDefinition

from prefstore.http.auth import PUBLIC_PATHS
from prefstore.http.errors import PROBLEM_JSON
from prefstore.models.views import Problem
from prefstore.schemas import model_components

WHY: dict[int, str] = {
    400: "Malformed request: a parameter or header outside its documented form, or a body "
    "that is not JSON",
    401: "No API key, or an unknown or revoked one",
    403: "The key lacks the scope this route needs, or (`field`: `venue`) it is bound to "
    "another venue than the one the request names",
    404: "No such customer (or item, or receipt)",
    409: "Conflicts with what is stored: an identifier another customer holds, an erased "
    "person, an id already taken, or a change by others at the same moment (retry)",
    412: "`If-Match` names a version that is no longer current: read the card again",
    413: "The body is larger than the service accepts",
    422: "Invalid input: `field` names what is wrong and `reason` says why",
    429: "Rate limited: retry after `Retry-After` seconds",
    503: "The store is unavailable or still loading: retry after `Retry-After` seconds; for "
    "a write, `outcome` says whether it may have landed",
}
KEYED = (401, 403, 429, 503)
"""What any route behind an API key can answer: no key, not its scope, over its rate limit,
and Redis down (the key check and the rate counter read it)."""

MAY_BE_ABSENT: dict[str, frozenset[str]] = {
    "Card": frozenset({"city", "contacts_masked"}),
    "Note": frozenset({"venue", "venue_only"}),
    "FollowUp": frozenset({"venue"}),
}
"""Fields a card stored before they existed lacks (cards are served as stored bytes)."""

_HEADERS: dict[str, dict[str, dict[str, Any]]] = {
    "401": {"WWW-Authenticate": {"description": 'Always `Bearer realm="prefstore"`'}},
    "429": {
        "Retry-After": {"description": "Seconds until the rate-limit window ends"},
        "RateLimit-Policy": {"description": 'The policy: `"<name>";q=<quota>;w=<seconds>`'},
        "RateLimit": {"description": 'What remains: `"<name>";r=0;t=<seconds to reset>`'},
    },
    "503": {"Retry-After": {"description": "Seconds to wait before retrying"}},
}
_ETAG = {
    "description": 'The card\'s version, e.g. `"7"`: send it as `If-Match` on a write to '
    "refuse overwriting a change you have not seen (412)",
    "required": True,
    "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
}
_REF = "#/components/schemas/"
_NULL = {"type": "null"}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem answers a route gives itself (`complete` adds `KEYED` to every route
    behind an API key)."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=WHY[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in sorted(statuses)
    }


def operation_id(
    handler: HTTPRouteHandler, _method: Method, _path: list[str | PathParameterDefinition]
) -> str:
    """The handler's name in camelCase (`add_note` → `addNote`): what a generated client
    calls the operation. A route may name its own (`operation_id=`)."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.title() for word in rest)


@dataclass
class DocumentConfig(OpenAPIConfig):
    """Litestar's `OpenAPIConfig`, building a document that `complete`s itself."""

    operation_id_creator: OperationIDCreator = field(default=operation_id)

    def to_openapi_schema(self) -> OpenAPI:
        built = super().to_openapi_schema()
        return _CompletedOpenAPI(**{f.name: getattr(built, f.name) for f in fields(built)})


class _CompletedOpenAPI(OpenAPI):
    def to_schema(self) -> dict[str, Any]:
        return complete(super().to_schema())


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Apply the document-wide rules (module docstring) to a built document, in place."""
    schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(model_schemas(schemas))
    public = [re.compile(pattern) for pattern in PUBLIC_PATHS]
    for path, operation in _operations(document):
        responses = operation.setdefault("responses", {})
        if any(p.search(path) for p in public):
            operation["security"] = []
        else:
            for status in KEYED:
                responses.setdefault(str(status), {"description": WHY[status]})
        for parameter in operation.get("parameters", []):
            _without_null(parameter.get("schema", {}))
        for status, response in responses.items():
            _document_response(status, response)
    answers = _reachable(
        schemas,
        (
            response
            for _, op in _operations(document)
            for status, response in op.get("responses", {}).items()
            if status.startswith("2")
        ),
    )
    inputs = _reachable(schemas, (op.get("requestBody", {}) for _, op in _operations(document)))
    for name in answers - inputs:
        properties = schemas[name].get("properties", {})
        schemas[name]["required"] = sorted(set(properties) - MAY_BE_ABSENT.get(name, frozenset()))
    return document


def model_schemas(names: Iterable[str]) -> dict[str, Any]:
    """msgspec's schemas of the prefstore Structs the document names (and what they nest).
    A name two prefstore Structs share is left as Litestar made it."""
    found: dict[str, list[type[msgspec.Struct]]] = {}
    for model in _structs(msgspec.Struct):
        if model.__module__.startswith("prefstore."):
            found.setdefault(model.__name__, []).append(model)
    models = [found[name][0] for name in names if len(found.get(name, ())) == 1]
    _, components = model_components(models, ref_template=_REF + "{name}")
    return components


def _structs(base: type[msgspec.Struct]) -> Iterator[type[msgspec.Struct]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _structs(sub)


def _without_null(schema: dict[str, Any]) -> None:
    """`oneOf: [X, null]` → X, merged into the parameter's schema (which may add bounds)."""
    options = schema.get("oneOf") or schema.get("anyOf")
    if options and _NULL in options:
        rest = [o for o in options if o != _NULL]
        schema.pop("oneOf", None)
        schema.pop("anyOf", None)
        if len(rest) == 1:
            schema.update({k: v for k, v in rest[0].items() if k not in schema})
        else:
            schema["oneOf"] = rest


def _document_response(status: str, response: dict[str, Any]) -> None:
    if status[:1] in ("4", "5") and PROBLEM_JSON not in response.get("content", {}):
        response["description"] = WHY.get(int(status), response.get("description"))
        response["content"] = {PROBLEM_JSON: {"schema": {"$ref": _REF + "Problem"}}}
    for name, header in _HEADERS.get(status, {}).items():
        response.setdefault("headers", {})[name] = {**header, "schema": {"type": "string"}}
    if status.startswith("2") and _REF + "Card" in _refs_of(response):
        response.setdefault("headers", {})["ETag"] = _ETAG


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document.get("paths", {}).items():
        for method in ("get", "put", "post", "delete", "options", "head", "patch", "trace"):
            if method in item:
                yield path, item[method]


def _refs_of(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs_of(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs_of(value)


def _reachable(schemas: dict[str, Any], roots: Iterable[Any]) -> set[str]:
    """The component schemas referenced from `roots`, directly or through other components."""
    seen: set[str] = set()
    todo = [ref for root in roots for ref in _refs_of(root)]
    while todo:
        name = todo.pop().removeprefix(_REF)
        if name in schemas and name not in seen:
            seen.add(name)
            todo.extend(_refs_of(schemas[name]))
    return seen
