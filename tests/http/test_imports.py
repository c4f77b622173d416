"""POST /v1/imports: the CLI's importer over HTTP, with the import scope and body limits."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from prefstore.customers.store import CustomerStore
from prefstore.http import imports
from tests.support.keys import KeyMaker

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
