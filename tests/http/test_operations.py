"""Operations: request ids, logs (text, JSON, access), the `metrics` scope, CORS, and the
service's own metrics (Redis round trips, the search index and its lag, imports)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from prefstore.config import Settings
from prefstore.errors import ConfigError
from prefstore.http.app import create_app
from prefstore.http.deps import services_of
from prefstore.http.logs import ACCESS_LOGGER
from prefstore.http.metrics import ImportProgress
from prefstore.http.requestid import RequestIds
from prefstore.services import Services
from tests.support.backends import Backend, app_for
from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]
ADA = {
    "id": "ada",
    "name": "Ada Lovelace",
    "phones": ["+14155550123"],
    "emails": ["ada@example.com"],
}
ORIGIN = "https://pos.example.com"
MADE_ID = re.compile(r"[0-9a-f]{16}-[0-9a-f]+")


def _app(backend: Backend, settings: Settings, **changes: Any) -> Any:
    return app_for(backend, msgspec.structs.replace(settings, **changes))


@pytest.fixture
async def logged(
    redis_backend: Backend, settings: Settings, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Client]:
    """The app with the access log on, its records captured (building the app configures
    logging, which takes pytest's capturing handler off the root logger: put it back)."""
    app = _app(redis_backend, settings, access_log=True)
    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.INFO)
    try:
        async with AsyncTestClient(app) as test_client:
            yield test_client
    finally:
        logging.getLogger().removeHandler(caplog.handler)


# ---------------------------------------------------------------- settings
def test_operations_settings_come_from_the_environment() -> None:
    default = Settings.from_env({})
    assert (default.log_format, default.access_log, default.cors_origins) == ("text", False, ())
    chosen = Settings.from_env(
        {
            "PREFSTORE_LOG_FORMAT": "JSON",
            "PREFSTORE_ACCESS_LOG": "1",
            "PREFSTORE_CORS_ORIGINS": f" {ORIGIN}, https://*.example.org ,",
        }
    )
    assert chosen.log_format == "json"
    assert chosen.access_log is True
    assert chosen.cors_origins == (ORIGIN, "https://*.example.org")
    with pytest.raises(ConfigError, match="PREFSTORE_LOG_FORMAT"):
        Settings.from_env({"PREFSTORE_LOG_FORMAT": "yaml"})


# ---------------------------------------------------------------- request ids
def test_made_ids_are_unique_and_given_ones_must_be_well_formed() -> None:
    ids, others = RequestIds(), RequestIds()
    made = [ids.new() for _ in range(1000)] + [others.new() for _ in range(1000)]
    assert len(set(made)) == 2000
    assert all(MADE_ID.fullmatch(m.decode()) for m in made)
    for good in (b"3f1c9a2e-8d4b-4c1e-9f7a-0b6e5d4c3b2a", b"req_42", b"a" * 128, b"YWJj+/=="):
        assert ids.accept(good) == good
    for bad in (b"", b"a" * 129, b"two words", b"<script>", b"ab\xc3\xa9", b"a\r\nb", None):
        assert MADE_ID.fullmatch(ids.accept(bad).decode())


async def test_every_answer_echoes_or_makes_a_request_id(
    client: Client, keymaker: KeyMaker
) -> None:
    pos = await keymaker.headers("lookup")
    paths = [
        ("GET", "/v1/customers/nobody", pos),  # the fast path: 404
        ("GET", "/v1/lookup?email=nobody@example.com", pos),  # the fast path: 404
        ("GET", "/v1/customers/nobody", {}),  # the fast path: 401
        ("GET", "/v1/customers/nobody/events", pos),  # Litestar
        ("DELETE", "/v1/customers/nobody", pos),  # Litestar: 403
        ("GET", "/no/such/route", {}),  # the router: 404
        ("GET", "/healthz", {}),
        ("POST", "/v1/customers", pos),  # 403 before the body is read
    ]
    seen = set()
    for method, path, headers in paths:
        made = await client.request(method, path, headers=headers)
        assert MADE_ID.fullmatch(made.headers["x-request-id"]), (path, made.headers)
        seen.add(made.headers["x-request-id"])
        given = {**headers, "X-Request-ID": "till-7:0042"}
        echoed = await client.request(method, path, headers=given)
        assert echoed.headers["x-request-id"] == "till-7:0042", path
        refused = await client.request(method, path, headers={**headers, "X-Request-ID": "a b"})
        assert MADE_ID.fullmatch(refused.headers["x-request-id"]), path
    assert len(seen) == len(paths)


async def test_log_records_of_a_request_carry_its_id(
    logged: Client, keymaker: KeyMaker, caplog: pytest.LogCaptureFixture
) -> None:
    staff = await keymaker.headers("write")
    headers = {**staff, "X-Request-ID": "unreadable-1", "content-type": "application/json"}
    response = await logged.post("/v1/customers", content=b'{"name": "\xff"}', headers=headers)
    assert response.status_code == 400, response.text
    [warning] = [r for r in caplog.records if "unreadable body" in r.getMessage()]
    assert warning.request_id == "unreadable-1"  # type: ignore[attr-defined]
    outside = logging.getLogger("prefstore.test").makeRecord("t", logging.INFO, "", 0, "", (), None)
    assert not hasattr(outside, "request_id")  # no request: no id


# ---------------------------------------------------------------- the access log
async def test_the_access_log_names_the_route_never_the_query(
    logged: Client, services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    made = await services.keystore.create("till", ["write"])
    key = {"Authorization": f"Bearer {made.key}"}
    assert (await logged.post("/v1/customers", json=ADA, headers=key)).status_code == 201
    asked = [
        ("/v1/customers/ada", "/v1/customers/{customer_id}", 200, "fast-1"),
        ("/v1/lookup?phone=%2B14155550123", "/v1/lookup", 200, "fast-2"),
        ("/v1/lookup?email=ada@example.com", "/v1/lookup", 200, "fast-3"),
        ("/v1/customers/ada/events", "/v1/customers/{customer_id}/events", 200, "slow-1"),
        ("/v1/search?q=lovelace", "/v1/search", None, "slow-2"),
        ("/no/such/route?email=ada@example.com", None, 404, "none-1"),
    ]
    for path, _route, _status, request_id in asked:
        await logged.get(path, headers={**key, "X-Request-ID": request_id})
    ours = {request_id for *_, request_id in asked}
    lines = [r for r in caplog.records if getattr(r, "request_id", None) in ours]
    assert [r.name for r in lines] == [ACCESS_LOGGER] * len(asked)
    for line, (_path, route, status, request_id) in zip(lines, asked, strict=True):
        fields = line.__dict__
        assert (fields["method"], fields["route"]) == ("GET", route)
        assert status is None or fields["status"] == status
        assert fields["request_id"] == request_id
        assert fields["key_id"] == (made.info.id if route else None)  # unrouted: no key read
        assert isinstance(fields["duration_ms"], float)
        text = line.getMessage() + repr(fields)
        for secret in ("4155550123", "ada@example.com", "ada/", made.key, "?"):
            assert secret not in text, (secret, text)
    assert f"key={made.info.id}" in lines[0].getMessage()


async def test_no_access_log_unless_asked(
    client: Client, keymaker: KeyMaker, caplog: pytest.LogCaptureFixture
) -> None:
    logging.getLogger().addHandler(caplog.handler)
    try:
        caplog.set_level(logging.INFO)
        pos = await keymaker.headers("lookup")
        await client.get("/v1/customers/nobody", headers=pos)
        await client.get("/v1/customers/nobody/events", headers=pos)
    finally:
        logging.getLogger().removeHandler(caplog.handler)
    assert [r for r in caplog.records if r.name == ACCESS_LOGGER] == []


async def test_json_logs_are_one_object_a_line(
    redis_backend: Backend,
    settings: Settings,
    keymaker: KeyMaker,
    capfd: pytest.CaptureFixture[str],
) -> None:
    app = _app(redis_backend, settings, log_format="json", access_log=True)
    pos = await keymaker.headers("lookup")
    async with AsyncTestClient(app) as client:
        await client.get("/v1/customers/nobody", headers={**pos, "X-Request-ID": "json-1"})
        await client.get("/v1/lookup?phone=4155550123", headers={**pos, "X-Request-ID": "json-2"})
        found = await _logged_lines(capfd, {"json-1", "json-2"})
    first = found["json-1"]
    assert first["logger"] == ACCESS_LOGGER and first["level"] == "INFO"
    assert (first["route"], first["status"]) == ("/v1/customers/{customer_id}", 404)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT.*", first["timestamp"])
    assert "4155550123" not in json.dumps(found["json-2"])


async def _logged_lines(capfd: pytest.CaptureFixture[str], ids: set[str]) -> dict[str, Any]:
    """The JSON lines with these request ids (a thread writes the log: wait for it)."""
    found: dict[str, Any] = {}
    deadline = time.monotonic() + 5
    while set(found) != ids and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        for line in capfd.readouterr().err.splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("request_id") in ids:
                    found[record["request_id"]] = record
    assert set(found) == ids
    return found


# ---------------------------------------------------------------- the metrics scope
async def test_a_metrics_key_scrapes_and_does_nothing_else(
    client: Client, keymaker: KeyMaker
) -> None:
    admin = await keymaker.headers("admin")
    assert (await client.post("/v1/customers", json=ADA, headers=admin)).status_code == 201
    scraper = await keymaker.headers("metrics")
    scraped = await client.get("/metrics", headers=scraper)
    assert scraped.status_code == 200
    assert "prefstore_search_index_customers" in scraped.text
    refused = [
        ("GET", "/v1/customers/ada"),
        ("GET", "/v1/lookup?email=ada@example.com"),
        ("GET", "/v1/search?q=ada"),
        ("GET", "/v1/customers/ada/events"),
        ("GET", "/v1/customers/ada/export"),
        ("DELETE", "/v1/customers/ada"),
        ("POST", "/v1/customers/ada/notes"),
        ("POST", "/v1/imports"),
    ]
    for method, path in refused:
        response = await client.request(method, path, headers=scraper)
        assert response.status_code == 403, (method, path, response.text)
    for scope in ("lookup", "contact", "write", "import"):
        other = await client.get("/metrics", headers=await keymaker.headers(scope))
        assert other.status_code == 403, scope
    assert (await client.get("/metrics", headers=admin)).status_code == 200


# ---------------------------------------------------------------- CORS
async def _preflight(client: Client, origin: str, path: str = "/v1/lookup") -> Any:
    return await client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, x-request-id",
        },
    )


async def test_cors_is_off_by_default(client: Client, keymaker: KeyMaker) -> None:
    preflight = await _preflight(client, ORIGIN)
    assert "access-control-allow-origin" not in preflight.headers
    pos = {**await keymaker.headers("lookup"), "Origin": ORIGIN}
    for path in ("/v1/customers/nobody", "/v1/customers/nobody/events"):
        answer = await client.get(path, headers=pos)
        assert not [h for h in answer.headers if h.startswith("access-control-")], path


async def test_cors_allows_configured_origins_on_both_paths(
    redis_backend: Backend, settings: Settings, keymaker: KeyMaker
) -> None:
    origins = (ORIGIN, "https://*.example.org")
    cors = msgspec.structs.replace(settings, cors_origins=origins)
    redis = redis_backend.client if redis_backend.url is None else None
    fast_app, plain_app = create_app(cors, redis), create_app(cors, redis, fast_lookup=False)
    pos = await keymaker.headers("lookup")
    async with AsyncTestClient(fast_app) as fast, AsyncTestClient(plain_app) as plain:
        for path in ("/v1/lookup", "/v1/customers/ada"):
            allowed = await _preflight(fast, ORIGIN, path)
            assert allowed.status_code == 204, allowed.text
            assert allowed.headers["access-control-allow-origin"] == ORIGIN
            assert "authorization" in allowed.headers["access-control-allow-headers"]
            wild = await _preflight(fast, "https://till.example.org", path)
            assert wild.headers["access-control-allow-origin"] == "https://till.example.org"
            refused = await _preflight(fast, "https://evil.example.net", path)
            assert refused.status_code == 400
            assert "access-control-allow-origin" not in refused.headers
        for origin in (ORIGIN, "https://evil.example.net"):
            for path in ("/v1/customers/nobody", "/v1/lookup?email=a@b.c", "/v1/customers/x"):
                headers = {**pos, "Origin": origin}
                on_fast = _cors_headers(await fast.get(path, headers=headers))
                on_plain = _cors_headers(await plain.get(path, headers=headers))
                assert on_fast == on_plain, (origin, path)
                allowed_origin = on_fast.get("access-control-allow-origin")
                assert allowed_origin == (origin if origin == ORIGIN else None)
                if origin == ORIGIN:
                    exposed = on_fast["access-control-expose-headers"]
                    assert "x-request-id" in exposed and "etag" in exposed


def _cors_headers(response: Any) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


# ---------------------------------------------------------------- the service's metrics
def _value(text: str, name: str, labels: str = "") -> float:
    pattern = rf"^{re.escape(name)}{re.escape(labels)} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, (name, labels)
    return float(found.group(1))


async def test_metrics_show_redis_round_trips_and_the_index(
    client: Client, keymaker: KeyMaker, redis_backend: Backend
) -> None:
    admin = await keymaker.headers("admin")
    before = (await client.get("/metrics", headers=admin)).text
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.post("/v1/customers", json=ADA, headers=admin)).status_code == 201
    services = services_of(client.app.state)
    for _ in range(100):  # the follower applies the write from the change feed
        if "ada" in services.search.index:
            break
        await asyncio.sleep(0.02)
    after = (await client.get("/metrics", headers=admin)).text
    ping = ("prefstore_redis_seconds_count", '{op="ping"}')
    assert _value(after, *ping) >= _value(before, *ping) + 2  # readiness and the scrape
    if redis_backend.url is not None:  # the service's own client times its transactions
        write = ("prefstore_redis_seconds_count", '{op="transaction"}')
        assert _value(after, *write) >= _value(before, *write) + 1
    assert _value(after, "prefstore_redis_up") == 1
    assert _value(after, "prefstore_search_index_customers") == 1
    assert _value(after, "prefstore_search_index_loaded") == 1
    assert _value(after, "prefstore_search_lag_seconds") == 0
    assert _value(after, "prefstore_search_lag_entries") == 0


async def test_metrics_show_a_follower_behind_the_feed(
    client: Client, keymaker: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await keymaker.headers("admin")
    await client.get("/metrics", headers=admin)  # the index is loaded

    async def stalled() -> int:  # the follower reads nothing from here on
        await asyncio.sleep(0.01)
        return 0

    monkeypatch.setattr(services_of(client.app.state).search, "follow_once", stalled)
    await asyncio.sleep(0.5)  # the read under way when patched ends (it blocks ≤ 200 ms)
    for n in range(3):
        created = await client.post("/v1/customers", json={"name": f"N {n}"}, headers=admin)
        assert created.status_code == 201
    await asyncio.sleep(0.05)
    text = (await client.get("/metrics", headers=admin)).text
    assert _value(text, "prefstore_search_lag_entries") == 3
    assert 0.04 <= _value(text, "prefstore_search_lag_seconds") < 30


async def test_imports_are_counted_as_they_go(
    client: Client, keymaker: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    totals: list[tuple[int, int]] = []
    counted = ImportProgress.__call__

    def spy(self: ImportProgress, rows: int, rejected: int) -> None:
        totals.append((rows, rejected))
        counted(self, rows, rejected)

    monkeypatch.setattr(ImportProgress, "__call__", spy)
    admin = await keymaker.headers("admin")
    rows = [f"Guest {n},guest{n}@example.com" for n in range(2499)] + ["No Email,not-an-email"]
    body = ("name,email\n" + "\n".join(rows) + "\n").encode()
    before = (await client.get("/metrics", headers=admin)).text
    headers = {**await keymaker.headers("import"), "content-type": "text/csv"}
    imported = await client.post("/v1/imports", content=body, headers=headers)
    assert imported.status_code == 200, imported.text
    assert (imported.json()["rows"], imported.json()["rejected"]) == (2500, 1)
    after = (await client.get("/metrics", headers=admin)).text
    assert totals[:2] == [(1000, 0), (2000, 0)]  # told as it went, not only at the end
    assert totals[-1] == (2500, 1)
    for name, grew in (
        ("prefstore_import_rows_total", 2500),
        ("prefstore_import_rows_rejected_total", 1),
    ):
        assert _value(after, name) == _value(before, name) + grew
    assert _value(after, "prefstore_imports_in_progress") == 0
