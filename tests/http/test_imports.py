"""POST /v1/imports: the CLI's importer over HTTP, with the import scope and body limits."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from prefstore.customers.store import CustomerStore
from prefstore.http import imports
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support import crm_files
from tests.support.app_process import Server, app_process, import_children
from tests.support.backends import delete_prefix, new_prefix
from tests.support.keys import KeyMaker
from tests.support.redis_server import RedisServer

SAMPLE = (Path(__file__).resolve().parents[2] / "samples" / "customers.csv").read_bytes()
CSV = {"content-type": "text/csv"}


async def test_import_returns_the_summary(
    client: AsyncTestClient,
    keymaker: KeyMaker,
    store: CustomerStore,  # type: ignore[type-arg]
) -> None:
    headers = {**await keymaker.headers("import", name="nightly-sync"), **CSV}
    response = await client.post("/v1/imports", content=SAMPLE, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["preset"], body["created"], body["rejected"]) == ("hubspot", 5, 2)
    assert body["unknown_columns"] == ["Preferred pronoun"]
    assert {(r["line"], r["field"]) for r in body["rejections"]} == {(6, "Email"), (8, "name")}
    ada = await store.get_record("1001")
    assert ada.allergies[0].confirmed_by == "nightly-sync"
    again = (await client.post("/v1/imports", content=SAMPLE, headers=headers)).json()
    assert (again["created"], again["unchanged"]) == (0, 5)


async def test_ndjson_gzip_and_dry_run(
    client: AsyncTestClient,
    keymaker: KeyMaker,
    store: CustomerStore,  # type: ignore[type-arg]
) -> None:
    body = gzip.compress(b'{"crm_id": "9", "name": "Nd Json", "email": "nd@example.com"}\n')
    headers = {**await keymaker.headers("admin"), "content-type": "application/x-ndjson"}
    dry = await client.post("/v1/imports?dry_run=true", content=body, headers=headers)
    assert dry.status_code == 200 and dry.json()["created"] == 1 and dry.json()["dry_run"]
    assert not await store.redis.exists(store.keys.record("9"))
    real = await client.post("/v1/imports", content=body, headers=headers)
    assert real.json()["created"] == 1
    assert (await store.get_record("9")).name == "Nd Json"


async def test_column_mapping_by_query(
    client: AsyncTestClient,
    keymaker: KeyMaker,
    store: CustomerStore,  # type: ignore[type-arg]
) -> None:
    headers = {**await keymaker.headers("import"), **CSV}
    data = b"Ref,Who,Mail,Fave\nR1,Q Person,q@example.com,Mocha\n"
    response = await client.post(
        "/v1/imports",
        params={"column": ["Ref=crm_id", "Who=name", "Mail=email", "Fave=likes:beverage"]},
        content=data,
        headers=headers,
    )
    assert response.json()["created"] == 1
    assert (await store.get_record("R1")).preferences[0].label == "Mocha"
    bad = await client.post(
        "/v1/imports", params={"column": "Ref=shoe"}, content=data, headers=headers
    )
    assert bad.status_code == 422 and bad.json()["field"] == "column 'Ref'"


@pytest.mark.parametrize(("scopes", "status"), [((), 401), (("lookup",), 403), (("write",), 403)])
async def test_import_needs_the_import_scope(
    client: AsyncTestClient,
    keymaker: KeyMaker,
    scopes: tuple[str, ...],
    status: int,  # type: ignore[type-arg]
) -> None:
    headers = {**(await keymaker.headers(*scopes) if scopes else {}), **CSV}
    response = await client.post("/v1/imports", content=SAMPLE, headers=headers)
    assert response.status_code == status


async def test_body_limits(
    client: AsyncTestClient,
    keymaker: KeyMaker,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg]
) -> None:
    headers = {**await keymaker.headers("import"), **CSV}
    # Larger than the app's 1 MB default: imports have their own limit.
    note = "x" * 2000
    rows = "".join(f"{n},F,L,l{n}@example.com,,,,,,,,{note}\n" for n in range(600))
    big = ("Record ID,First Name,Last Name,Email,a,b,c,d,e,f,g,Notes\n" + rows).encode()
    assert len(big) > 1_000_000
    response = await client.post("/v1/imports?dry_run=true", content=big, headers=headers)
    assert response.status_code == 200 and response.json()["created"] == 600
    monkeypatch.setattr(imports, "MAX_IMPORT_BODY_BYTES", 10_000)
    response = await client.post("/v1/imports", content=big, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


# ------------------------------------------------- CRM files as they come (issue 13)
async def test_crm_files_as_they_come(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keymaker: KeyMaker,
) -> None:
    """UTF-16 and tab (Excel's "Unicode text"), Windows-1252 with `;` and old-Mac line ends,
    Excel's `sep=;` and `="0042"`: imported, and the encoding said in the summary."""
    headers = {**await keymaker.headers("import"), **CSV}
    for name, data in crm_files.SAMPLES.items():
        if name.startswith("ndjson"):
            continue
        response = await client.post("/v1/imports?dry_run=true", content=data, headers=headers)
        assert response.status_code == 200, (name, response.text)
        body = response.json()
        assert body["encoding"] == ("utf-8" if name == "gzip" else _ENCODINGS[name]), name
        assert (body["created"], body["unknown_columns"]) == (
            (1, []) if name == "excel" else (2, [])
        ), (name, body)


_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8 bom crlf": "utf-8-sig",
    "utf-16 tab": "utf-16-le",
    "utf-16-be": "utf-16-be",
    "cp1252 semicolon cr": "cp1252",
    "excel": "cp1252",
}


async def test_no_import_body_gets_a_server_error(
    client: AsyncTestClient,  # type: ignore[type-arg]
    keymaker: KeyMaker,
) -> None:
    """The fuzz of the readers and the importer (tests/transfer/test_reader_fuzz.py), a few
    times over HTTP: random bytes, mutated CRM files, gzip cut short. Each answer is the
    summary or a 4xx problem, never a 500."""
    headers = await keymaker.headers("import")
    rng = random.Random(13)
    bodies = [rng.randbytes(3000), gzip.compress(crm_files.SAMPLES["utf-8"])[:60]]
    for name in sorted(crm_files.SAMPLES):
        bodies.append(crm_files.mutated(crm_files.SAMPLES[name], crm_files.random_edits(rng)))
    for i, body in enumerate(bodies):
        content_type = ("text/csv", "application/x-ndjson", "application/octet-stream")[i % 3]
        response = await client.post(
            "/v1/imports", content=body, headers={**headers, "content-type": content_type}
        )
        assert response.status_code < 500, (body[:80], response.text)
        if response.status_code == 200:
            assert response.json()["rows"] >= 0
        else:
            assert response.status_code in (413, 422), response.text


# ------------------------------------------------- the import's own process, end to end
# The app under uvicorn in its own process (the test client sends a body whole), on a real
# Redis: the body is streamed, paused half-way, and the test looks at the server meanwhile.

HEADER = b"Record ID,First Name,Email\n"
FIRST = 2000


def _rows(start: int, stop: int) -> bytes:
    return "".join(f"{n},P{n},p{n}@example.com\n" for n in range(start, stop)).encode()


class _PausedBody:
    """Header and FIRST rows, then (once `go` is set) the rest, or the client goes away."""

    def __init__(self, rest: bytes, hang_up: bool = False) -> None:
        self.go = asyncio.Event()
        self.rest, self.hang_up = rest, hang_up

    async def chunks(self) -> AsyncIterator[bytes]:
        yield HEADER + _rows(0, FIRST)
        await self.go.wait()
        if self.hang_up:
            raise ConnectionAbortedError("the client went away")
        yield self.rest


@dataclass
class _Running:
    server: Server
    http: httpx.AsyncClient
    redis: Redis
    keys: KeySpace
    importing: dict[str, str]
    looking: dict[str, str]

    async def first_part_written(self) -> None:
        deadline = time.monotonic() + 20
        while not await self.redis.exists(self.keys.record(str(FIRST - 1))):
            assert time.monotonic() < deadline, "the first rows were never written"
            await asyncio.sleep(0.05)

    async def children_gone(self) -> bool:
        deadline = time.monotonic() + 10
        while import_children(self.server.pid):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


@asynccontextmanager
async def _running_app(redis_url: str) -> AsyncIterator[_Running]:
    prefix = new_prefix("hi")
    redis = connect(redis_url, 2.0)
    keys = KeySpace(prefix)
    makers = KeyMaker(redis, keys)
    importing = {**await makers.headers("import", name="nightly"), **CSV}
    looking = await makers.headers("lookup")
    try:
        with app_process(redis_url, prefix, {"PREFSTORE_REDIS_TIMEOUT": "0.5"}) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
                yield _Running(server, http, redis, keys, importing, looking)
    finally:
        with contextlib.suppress(RedisConnectionError):  # the outage test killed its Redis
            await delete_prefix(redis, prefix)
        await redis.aclose()


@pytest.mark.real_redis
async def test_lookups_are_answered_while_the_import_runs_in_its_own_process(
    redis_server: RedisServer,
) -> None:
    async with _running_app(redis_server.url) as app:
        body = _PausedBody(_rows(FIRST, FIRST + 500))
        post = app.http.post("/v1/imports", content=body.chunks(), headers=app.importing)
        posting = asyncio.create_task(post)
        await app.first_part_written()
        (child,) = import_children(app.server.pid)
        assert child != app.server.pid
        lookup = await app.http.get("/v1/customers/7", headers=app.looking)
        assert lookup.status_code == 200 and lookup.json()["name"] == "P7"
        assert not posting.done()
        body.go.set()
        response = await posting
        assert response.status_code == 200, response.text
        assert response.json()["created"] == FIRST + 500
        assert await app.children_gone()


@pytest.mark.real_redis
async def test_a_client_gone_mid_upload_ends_its_import_only(redis_server: RedisServer) -> None:
    async with _running_app(redis_server.url) as app:
        body = _PausedBody(b"", hang_up=True)
        post = app.http.post("/v1/imports", content=body.chunks(), headers=app.importing)
        posting = asyncio.create_task(post)
        await app.first_part_written()
        assert import_children(app.server.pid)
        body.go.set()
        with pytest.raises(ConnectionAbortedError):
            await posting
        assert await app.children_gone()
        lookup = await app.http.get("/v1/customers/7", headers=app.looking)
        assert lookup.status_code == 200
        again = await app.http.post(
            "/v1/imports", content=HEADER + _rows(0, 3), headers=app.importing
        )
        assert again.status_code == 200 and again.json()["unchanged"] == 3


@pytest.mark.real_redis
async def test_an_outage_mid_import_answers_503(tmp_path: Path) -> None:
    own = RedisServer(tmp_path / "redis")
    own.start()
    try:
        async with _running_app(own.url) as app:
            body = _PausedBody(_rows(FIRST, FIRST + 1000))
            post = app.http.post("/v1/imports", content=body.chunks(), headers=app.importing)
            posting = asyncio.create_task(post)
            await app.first_part_written()
            own.kill()
            body.go.set()
            response = await posting
            assert response.status_code == 503, response.text
            assert response.json()["error"] == "unavailable"
            assert response.headers["retry-after"]
            assert await app.children_gone()
    finally:
        own.stop()


@pytest.mark.real_redis
async def test_the_import_process_never_outlives_the_server(redis_server: RedisServer) -> None:
    async with _running_app(redis_server.url) as app:
        body = _PausedBody(b"")
        post = app.http.post("/v1/imports", content=body.chunks(), headers=app.importing)
        posting = asyncio.create_task(post)
        await app.first_part_written()
        (child,) = import_children(app.server.pid)
        os.kill(app.server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the import process outlived the server"
            await asyncio.sleep(0.05)
        body.go.set()
        with pytest.raises(httpx.HTTPError):
            await posting


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) is gone for our purpose.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
