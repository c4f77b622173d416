"""The lookup benchmark's two references, served beside `prefstore serve` in the same run.

* `bench_app:minimal` — (a) a minimal Litestar app: one route, no middleware, no auth,
  returning the bytes of a stored card (`BENCH_BODY_FILE`) from a constant, with an ETag.
* `bench_app:raw` — (b) the limit: a raw ASGI callable doing the lookup's work and nothing
  else — bearer key checked against a dict, `HMGET` (by id) or the lookup script (by phone or
  email, E.164 / lower-case as sent) through the product's pipelined connection, bytes out.
  `BENCH_NEAR_CACHE=1` adds an ideal per-process cache of card bytes (no invalidation at
  all): the most a near-cache could gain, measured on the Zipf pattern.

Both are factories, served by `scripts/bench_lookup.py` under the same server and flags as
`prefstore serve` (uvicorn, uvloop, httptools, no access log).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from litestar import Litestar, MediaType, Response, get

from prefstore.customers.reader import LOOKUP_BY_IDENTIFIER, lookup_arguments
from prefstore.redis.connection import connect, pipelined_reads
from prefstore.redis.keyspace import CARD_FIELD_TOUCHPOINT, CARD_FIELD_VERSION, KeySpace


def minimal() -> Litestar:
    body = Path(os.environ["BENCH_BODY_FILE"]).read_bytes()

    @get("/bare", media_type=MediaType.JSON)
    async def bare() -> Response[bytes]:
        return Response(content=body, media_type=MediaType.JSON, headers={"etag": '"1"'})

    return Litestar(route_handlers=[bare], openapi_config=None)


def raw() -> Any:
    keys = KeySpace(os.environ["PREFSTORE_KEY_PREFIX"])
    bearer = f"Bearer {os.environ['BENCH_KEY']}".encode()
    principals = {bearer: "touchpoint"}  # the key check: a dict, as a cache hit is
    client = connect(os.environ["PREFSTORE_REDIS_URL"], 0.5)
    reads = pipelined_reads(client)
    assert reads is not None
    argv = lookup_arguments(keys, CARD_FIELD_TOUCHPOINT)
    cache: dict[str, tuple[bytes, bytes]] | None = (
        {} if os.environ.get("BENCH_NEAR_CACHE") else None
    )
    prefix = "/v1/customers/"

    async def read(path: str, query: bytes) -> Any:
        if path.startswith(prefix):
            return await reads.execute(
                "HMGET", keys.card(path[len(prefix) :]), CARD_FIELD_VERSION, CARD_FIELD_TOUCHPOINT
            )
        ((kind, value),) = parse_qsl(query.decode("latin-1"))
        index = keys.identifier(kind, value)
        return await reads.execute("EVALSHA", LOOKUP_BY_IDENTIFIER.sha, 1, index, *argv)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return  # lifespan: nothing to start
        auth = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        if principals.get(auth) is None:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        hit = cache.get(scope["path"]) if cache is not None else None
        if hit is None:
            version, body = await read(scope["path"], scope["query_string"])
            if cache is not None:
                cache[scope["path"]] = (version, body)
        else:
            version, body = hit
        headers = [
            (b"content-type", b"application/json"),
            (b"etag", b'"' + version + b'"'),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app
