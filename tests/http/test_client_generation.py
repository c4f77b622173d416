"""An integrator's first hour: generate a Python client from the running service's OpenAPI
document with `openapi-python-client` (no warnings), import it, and use it against the
service: create a customer, look them up by email, add a note with the card's ETag, and read
a 404 and a 422 as typed problem details.

The generated package lives in the test's tmp_path only. The service runs in its own
process (uvicorn, as served), on the session's Redis.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from prefstore.customers.apikeys import KeyStore
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.app_process import Server, app_process
from tests.support.backends import delete_prefix, new_prefix
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis

PACKAGE = "prefstore_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
CONFIG = """\
project_name_override: prefstore-client
package_name_override: prefstore_client
post_hooks: []
content_type_overrides:
  text/csv: application/octet-stream
  application/x-ndjson: application/octet-stream
"""
"""The import's CSV and NDJSON bodies are bytes to this generator (it knows JSON, forms and
`application/octet-stream`); no post hooks, so the test needs no formatter on PATH."""


@pytest.fixture
def server(redis_server: RedisServer) -> Iterator[Server]:
    with app_process(redis_server.url, new_prefix("tc")) as running:
        yield running


@pytest.fixture
def generated(server: Server, tmp_path: Path) -> Iterator[ModuleType]:
    """The client package, generated from the document the server serves, imported."""
    document = tmp_path / "openapi.json"
    document.write_bytes(httpx.get(f"{server.url}/schema/openapi.json", timeout=5).content)
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    out = tmp_path / PACKAGE
    done = subprocess.run(
        [
            *(str(GENERATOR), "generate", "--path", str(document), "--config", str(config)),
            *("--meta", "none", "--output-path", str(out), "--fail-on-warning"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "warning" not in output.lower(), output
    assert "error" not in output.lower(), output
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
            del sys.modules[name]


@pytest.fixture
async def write_key(server: Server) -> AsyncIterator[str]:
    redis: Redis = connect(server.redis_url, timeout=2.0)
    made = await KeyStore(redis, KeySpace(server.prefix)).create("integrator", ["write"])
    yield made.key
    await delete_prefix(redis, server.prefix)
    await redis.aclose()


@pytest.mark.timeout(90)
async def test_a_generated_client_works_against_the_service(
    generated: ModuleType, server: Server, write_key: str
) -> None:
    def use(module: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.{module}")

    models = use("models")
    create_customer, get_card = use("api.customers.create_customer"), use("api.customers.get_card")
    lookup, add_note = use("api.customers.lookup"), use("api.customers.add_note")
    client = use("client").AuthenticatedClient(base_url=server.url, token=write_key)

    async with client:
        created = await create_customer.asyncio_detailed(
            client=client,
            body=models.CustomerCreate(name="Ada Lovelace", emails=["ada@example.com"]),
        )
        assert created.status_code == 201, created.content
        assert isinstance(created.parsed, models.Card)

        found = await lookup.asyncio_detailed(
            client=client, identifier=models.LookupIdentifier(email="ADA@example.com")
        )
        assert isinstance(found.parsed, models.Card), found.content
        assert found.parsed.name == "Ada Lovelace"
        etag = found.headers["etag"]

        noted = await add_note.asyncio_detailed(
            customer_id=found.parsed.id,
            client=client,
            body=models.NoteInput(text="prefers the window table"),
            if_match=etag,
        )
        assert noted.status_code == 201, noted.content
        assert isinstance(noted.parsed, models.Card)
        assert [n.text for n in noted.parsed.notes] == ["prefers the window table"]

        missing = await get_card.asyncio_detailed(customer_id="nobody", client=client)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem)
        assert (missing.parsed.error, missing.parsed.status) == ("not_found", 404)

        refused = await add_note.asyncio_detailed(
            customer_id=found.parsed.id, client=client, body=models.NoteInput(text="")
        )
        assert refused.status_code == 422
        assert isinstance(refused.parsed, models.Problem)
        assert (refused.parsed.field, refused.parsed.error) == ("text", "invalid_input")
        assert refused.parsed.reason
