"""A bounded schemathesis run against the app's own OpenAPI document (issue 11, "checks that
keep it so"): every operation, with a key holding every scope (lookup, write, import,
admin), a few dozen generated requests each; no answer may be a 5xx.

In process, on fakeredis, through Litestar's test client (its lifespan running), so it
needs no server and stays well inside the per-test time limit: the examples per operation
and a deadline bound it (about 30-40 s on the 2-core development machine).
"""

from __future__ import annotations

import time
from typing import Any

import fakeredis
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from prefstore.config import Settings
from prefstore.customers.apikeys import KeyStore
from prefstore.http.app import create_app
from prefstore.redis.keyspace import KeySpace

EXAMPLES = 25
"""Generated requests per operation (plus schemathesis' explicit examples)."""
BUDGET_SECONDS = 45.0
_NO_RATE_LIMITS = {"rate_limit_per_key": 0, "auth_failures_per_address": 0}
SKIPPED = {("POST", "/v1/imports")}
"""The import takes a raw streamed body the document describes as bytes: fuzzing it is the
linear-parsing and amplification tests' job (tests/transfer/test_linear_parsing.py,
tests/http/test_hardening.py)."""


@pytest.mark.timeout(120)
def test_no_generated_request_gets_a_server_error() -> None:
    redis = fakeredis.FakeAsyncRedis()
    # No rate limits: a fuzzer is one key sending hundreds of requests; 429s would hide the
    # answers it is here to check.
    app_settings = msgspec.structs.replace(Settings.from_env(), **_NO_RATE_LIMITS)
    app = create_app(app_settings, redis)
    failures: list[str] = []
    started = time.monotonic()
    with TestClient(app) as client:
        with client.portal() as portal:
            key = portal.call(_admin_key, redis, app_settings.key_prefix)
        auth = {"authorization": f"Bearer {key}"}
        client.post("/v1/customers", json={"id": "c1", "name": "Ann"}, headers=auth)
        document = client.get("/schema/openapi.json").json()
        schema = schemathesis.openapi.from_dict(document)
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) in SKIPPED:
                continue
            if time.monotonic() - started > BUDGET_SECONDS:
                failures.append(f"budget of {BUDGET_SECONDS} s spent before {operation.path}")
                break
            _fuzz(client, operation, auth, failures)
    assert not failures, "\n".join(failures[:20])


async def _admin_key(redis: Any, prefix: str) -> str:
    made = await KeyStore(redis, KeySpace(prefix)).create(
        "fuzz", ["lookup", "write", "import", "admin"]
    )
    return made.key


def _fuzz(client: TestClient[Any], operation: Any, auth: dict[str, str], out: list[str]) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), use_known_id=st.booleans())
    def run(case: Any, use_known_id: bool) -> None:
        if use_known_id and case.path_parameters and "customer_id" in case.path_parameters:
            case.path_parameters["customer_id"] = "c1"
        kwargs = case.as_transport_kwargs(base_url="http://testserver.local")
        generated = kwargs.get("headers") or {}
        headers = {k: v for k, v in generated.items() if k.lower() != "authorization"} | auth
        response = client.request(
            kwargs["method"],
            kwargs["url"],
            params=kwargs.get("params"),
            headers=headers,
            content=_body(kwargs),
        )
        if response.status_code >= 500:
            out.append(
                f"{case.method} {case.formatted_path}: {response.status_code} "
                f"{response.text[:200]} <- {case.as_curl_command()[:300]}"
            )

    run()


def _body(kwargs: dict[str, Any]) -> bytes | None:
    if "json" in kwargs:
        import json

        return json.dumps(kwargs["json"]).encode()
    data = kwargs.get("content") or kwargs.get("data")
    if isinstance(data, str):
        return data.encode()
    return data if isinstance(data, bytes) else None
