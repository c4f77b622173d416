"""The OpenAPI document says what the API does: every error a problem, every answer's
fields required, request bodies closed, the card's ETag, the lookup's identifier kinds, the
import's body, and the public routes public."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import fakeredis
import msgspec
import pytest
from litestar.testing import TestClient

from prefstore.config import Settings
from prefstore.customers.rules import MAX_CART_ITEMS
from prefstore.http.app import create_app
from prefstore.http.errors import PROBLEM_JSON
from prefstore.http.openapi import KEYED, MAY_BE_ABSENT, model_schemas
from prefstore.models import inputs, views

Document = dict[str, Any]
METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM_REF = "#/components/schemas/Problem"


@pytest.fixture(scope="module")
def document() -> Document:
    app = create_app(Settings(), fakeredis.FakeAsyncRedis(), fast_lookup=False)
    with TestClient(app) as client:
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200
        served: Document = response.json()
    return served


def _operations(document: Document) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def _ref(node: dict[str, Any]) -> str | None:
    return node.get("schema", {}).get("$ref")


def test_every_error_answer_is_a_problem_and_keyed_routes_list_theirs(
    document: Document,
) -> None:
    for method, path, operation in _operations(document):
        public = operation.get("security") == []
        statuses = {int(s) for s in operation["responses"]}
        if not public:
            assert set(KEYED) <= statuses, (method, path, statuses)
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == [PROBLEM_JSON], (method, path, status)
                assert _ref(response["content"][PROBLEM_JSON]) == PROBLEM_REF
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "error"} <= set(problem["required"])
    assert {"field", "reason", "outcome", "operation_id"} <= set(problem["properties"])


def test_retry_and_rate_limit_headers_are_documented(document: Document) -> None:
    for method, path, operation in _operations(document):
        responses = operation["responses"]
        if "429" in responses:
            assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= set(
                responses["429"]["headers"]
            ), (method, path)
        if "503" in responses:
            assert "Retry-After" in responses["503"]["headers"], (method, path)


def test_only_the_health_routes_are_public(document: Document) -> None:
    public = {path for _, path, op in _operations(document) if op.get("security") == []}
    assert public == {"/healthz", "/readyz"}
    assert document["security"] == [{"apiKey": []}]


def test_every_schema_is_its_models_own(document: Document) -> None:
    """msgspec's schema of each model, not Litestar's conversion (which drops constraints on
    list items and dict keys): a component two Structs share a name with would not be."""
    schemas = document["components"]["schemas"]
    assert set(model_schemas(schemas)) >= set(schemas)
    phones = schemas["CustomerCreate"]["properties"]["phones"]["items"]
    assert (phones["minLength"], phones["format"]) == (3, "phone")
    assert schemas["CustomerCreate"]["properties"]["identifiers"]["propertyNames"]["pattern"]


def test_request_bodies_are_closed_as_their_models_are(document: Document) -> None:
    schemas = document["components"]["schemas"]
    closed = {
        name for name, schema in schemas.items() if schema.get("additionalProperties") is False
    }
    models = {
        name: model
        for name, model in inspect.getmembers(inputs, inspect.isclass)
        if issubclass(model, msgspec.Struct) and model.__module__ == inputs.__name__
    }
    bodies = {
        _ref(media).rsplit("/", 1)[1]  # type: ignore[union-attr]
        for _, _, op in _operations(document)
        for media in op.get("requestBody", {}).get("content", {}).values()
        if _ref(media)
    }
    assert bodies, "no JSON request body found"
    assert bodies <= closed
    for name in closed:
        assert name in models, f"{name} is closed but is not an input model"
        assert models[name].__struct_config__.forbid_unknown_fields, name


def test_every_field_of_an_answer_is_required(document: Document) -> None:
    schemas = document["components"]["schemas"]
    card = schemas["Card"]
    assert set(card["required"]) == set(card["properties"]) - MAY_BE_ABSENT["Card"]
    defaults = {f.name for f in msgspec.structs.fields(views.Card) if f.required is False}
    assert defaults >= MAY_BE_ABSENT["Card"], "MAY_BE_ABSENT names a field Card lacks"
    for name in ("CardHistory", "ImportSummary", "SearchHit", "RecallHit", "Readiness"):
        assert set(schemas[name]["required"]) == set(schemas[name]["properties"]), name


def test_card_answers_document_their_etag_and_writes_take_if_match(document: Document) -> None:
    with_card = 0
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            content = response.get("content", {}).get("application/json", {})
            if status.startswith("2") and _ref(content) == "#/components/schemas/Card":
                with_card += 1
                assert response["headers"]["ETag"]["required"] is True, (method, path)
        names = {p["name"] for p in operation.get("parameters", [])}
        if method in ("PATCH", "DELETE") and "{item_id}" in path:
            assert "If-Match" in names, (method, path)
    assert with_card >= 10


def test_the_lookup_documents_any_identifier_kind(document: Document) -> None:
    (parameter,) = document["paths"]["/v1/lookup"]["get"]["parameters"]
    assert (parameter["in"], parameter["style"], parameter["explode"]) == ("query", "form", True)
    schema = parameter["schema"]
    assert {"phone", "email", "loyalty"} <= set(schema["properties"])
    assert schema["additionalProperties"]["type"] == "string"
    assert (schema["minProperties"], schema["maxProperties"]) == (1, 1)
    assert schema["propertyNames"]["pattern"]


def test_the_import_documents_its_body(document: Document) -> None:
    body = document["paths"]["/v1/imports"]["post"]["requestBody"]
    assert body["required"] is True
    assert {"text/csv", "application/x-ndjson"} <= set(body["content"])
    assert "gzip" in body["description"]


def test_the_cart_check_documents_its_limit(document: Document) -> None:
    items = document["components"]["schemas"]["CartCheckInput"]["properties"]["items"]
    assert items["not"] == {"minItems": MAX_CART_ITEMS + 1}
