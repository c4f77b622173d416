"""No input breaks the service (issue 11, found 3, 5, 6, 11, 12, 15): odd bodies, headers and
paths get a 4xx with the usual error body and a warning without a traceback; limits answer
422 naming the field; page assets carry the page's security headers; the docs page loads no
third-party script; revoked and unknown keys get the same answer."""

from __future__ import annotations

import gzip
import logging
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from prefstore.customers.apikeys import KeyStore
from prefstore.customers.rules import items as record_rules
from prefstore.customers.rules import limits as record_limits
from prefstore.redis.keyspace import KeySpace
from prefstore.transfer import importer as importer_module
from tests.support.backends import Backend
from tests.support.keys import KeyMaker

Client = AsyncTestClient  # type: ignore[type-arg]


async def _customer(client: Client, headers: dict[str, str], cid: str = "c1") -> None:
    made = await client.post("/v1/customers", json={"id": cid, "name": "Ann"}, headers=headers)
    assert made.status_code == 201, made.text


def _assert_error_body(response: Any, status: int) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and body["error"] and body["detail"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("nested 100k deep", b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
        ("byte xff", b'{"name": "\xff"}'),
    ],
)
async def test_unreadable_bodies_are_400_logged_without_traceback(
    client: Client, keymaker: KeyMaker, caplog: pytest.LogCaptureFixture, name: str, body: bytes
) -> None:
    headers = await keymaker.headers("write")
    with caplog.at_level(logging.WARNING):
        response = await client.post(
            "/v1/customers", content=body, headers={**headers, "content-type": "application/json"}
        )
    _assert_error_body(response, 400)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


@pytest.mark.parametrize("if_match", ["9" * 5000, "²", '"²"', "١٢"])
@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
async def test_odd_if_match_is_422(
    client: Client, keymaker: KeyMaker, if_match: str, method: str
) -> None:
    headers = await keymaker.headers("write", "admin")
    await _customer(client, headers)
    odd = {**headers, "if-match": if_match.encode()}
    if method == "POST":
        response = await client.post("/v1/customers/c1/notes", json={"text": "hi"}, headers=odd)
    elif method == "PATCH":
        response = await client.patch("/v1/customers/c1", json={"name": "Bo"}, headers=odd)
    else:
        response = await client.delete("/v1/customers/c1/notes/n1", headers=odd)
    _assert_error_body(response, 422)
    assert response.json()["field"] == "If-Match"


async def test_nul_in_an_asset_path_is_400_without_a_key(client: Client) -> None:
    response = await client.get("/ui/static/index.html%00.js")
    _assert_error_body(response, 400)


async def test_long_headers_are_no_500(client: Client, keymaker: KeyMaker) -> None:
    headers = await keymaker.headers("lookup")
    await _customer(client, await keymaker.headers("write"))
    for extra in ({"x-long": "a" * 200_000}, {"authorization": "Bearer " + "x" * 100_000}):
        response = await client.get("/v1/customers/c1", headers={**headers, **extra})
        assert response.status_code < 500


@pytest.mark.parametrize("asset", ["/ui/static/index.html", "/ui/static/app.js"])
async def test_page_assets_carry_the_page_security_headers(client: Client, asset: str) -> None:
    response = await client.get(asset)
    assert response.status_code == 200
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_page_loads_no_third_party_script(client: Client) -> None:
    for page in ("/schema", "/schema/swagger"):
        response = await client.get(page)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text, page
    asset = await client.get("/ui/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000


async def test_revoked_and_unknown_keys_get_one_answer(
    client: Client, redis_backend: Backend, settings: Any
) -> None:
    keystore = KeyStore(redis_backend.client, KeySpace(settings.key_prefix))
    made = await keystore.create("gone", ["lookup"])
    await keystore.revoke(made.info.id)
    unknown = made.key[:-6] + ("aaaaaa" if not made.key.endswith("aaaaaa") else "bbbbbb")
    answers = []
    for key in (made.key, unknown):
        response = await client.get("/v1/customers/x", headers={"authorization": f"Bearer {key}"})
        answers.append((response.status_code, response.json()["detail"]))
    assert answers[0] == answers[1] and answers[0][0] == 401


@pytest.mark.parametrize(
    "name", ["Ann\x00", "Ann\u202egnaL", "An\u200bn", "Ann\x1b[31m", "Ann\u2066x", "\ufeffAnn"]
)
async def test_names_refuse_control_bidi_and_zero_width(
    client: Client, keymaker: KeyMaker, name: str
) -> None:
    headers = await keymaker.headers("write")
    response = await client.post("/v1/customers", json={"name": name}, headers=headers)
    _assert_error_body(response, 422)
    assert response.json()["field"] == "name"
    assert "invisible" in response.json()["reason"]


async def test_names_of_real_scripts_are_kept(client: Client, keymaker: KeyMaker) -> None:
    headers = await keymaker.headers("write")
    for name in ("Zoë Ó Briain", "مهر\u200cنوش", "李小龍", "Ngũgĩ wa Thiong'o"):
        response = await client.post("/v1/customers", json={"name": name}, headers=headers)
        assert response.status_code == 201, (name, response.text)


async def test_a_naive_event_time_is_utc_and_the_customer_keeps_working(
    client: Client, keymaker: KeyMaker
) -> None:
    headers = await keymaker.headers("write")
    await _customer(client, headers)
    url = "/v1/customers/c1/events"
    naive = await client.post(
        url, json={"type": "visit", "at": "2030-01-01T00:00:00"}, headers=headers
    )
    assert naive.status_code == 201 and naive.json()["event"]["at"].endswith("Z")
    for body in ({"type": "visit"}, {"type": "visit", "at": "2031-01-01T00:00:00Z"}):
        assert (await client.post(url, json=body, headers=headers)).status_code == 201
    far = {"type": "visit", "at": "9999-12-31T23:59:59-23:59"}
    response = await client.post(url, json=far, headers=headers)
    _assert_error_body(response, 422)
    assert response.json()["field"] == "at"


async def test_notes_past_the_limit_are_422_and_nothing_is_written(
    client: Client, keymaker: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The limit is read where the rule applies it (customers/rules/items.py).
    monkeypatch.setattr(record_rules, "MAX_NOTES", 3)
    headers = await keymaker.headers("write")
    await _customer(client, headers)
    for n in range(3):
        ok = await client.post("/v1/customers/c1/notes", json={"text": f"n{n}"}, headers=headers)
        assert ok.status_code == 201
    version = (await client.get("/v1/customers/c1", headers=headers)).headers["etag"]
    response = await client.post(
        "/v1/customers/c1/notes", json={"text": "one more"}, headers=headers
    )
    _assert_error_body(response, 422)
    assert response.json()["field"] == "notes"
    assert (await client.get("/v1/customers/c1", headers=headers)).headers["etag"] == version


async def test_allergies_past_the_limit_are_422(
    client: Client, keymaker: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(record_rules, "MAX_ALLERGIES", 2)
    headers = await keymaker.headers("write")
    await _customer(client, headers)
    url = "/v1/customers/c1/allergies"
    for label in ("peanuts", "shellfish"):
        assert (await client.post(url, json={"label": label}, headers=headers)).status_code == 201
    again = await client.post(url, json={"label": "Peanuts", "severity": "severe"}, headers=headers)
    assert again.status_code == 201  # strengthening a known allergy is never refused
    response = await client.post(url, json={"label": "sesame"}, headers=headers)
    _assert_error_body(response, 422)
    assert response.json()["field"] == "allergies"


async def test_recall_words_and_cart_items_are_bounded(client: Client, keymaker: KeyMaker) -> None:
    headers = await keymaker.headers("write")
    await _customer(client, headers)
    words = " ".join(f"w{i}" for i in range(record_limits.MAX_QUERY_WORDS + 1))
    recall = await client.get("/v1/customers/c1/recall", params={"q": words}, headers=headers)
    _assert_error_body(recall, 422)
    assert recall.json()["field"] == "q"
    items = [f"item {i}" for i in range(record_limits.MAX_CART_ITEMS + 1)]
    check = await client.post("/v1/customers/c1/check", json={"items": items}, headers=headers)
    _assert_error_body(check, 422)
    assert check.json()["field"] == "items"


async def test_an_import_of_empty_arrays_lists_a_bounded_number_of_rejections(
    client: Client, keymaker: KeyMaker
) -> None:
    headers = {**await keymaker.headers("import"), "content-type": "application/x-ndjson"}
    body = b"[]\n" * ((1 << 20) // 3)
    response = await client.post("/v1/imports", content=body, headers=headers)
    assert response.status_code == 200
    summary = response.json()
    assert summary["rejected"] == body.count(b"\n")
    assert len(summary["rejections"]) == importer_module.MAX_LISTED_REJECTIONS
    assert summary["rejections_truncated"] is True
    assert len(response.content) < 200_000


async def test_an_import_past_the_decompressed_limit_is_413(
    client: Client, keymaker: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefstore.http import imports

    monkeypatch.setattr(imports, "MAX_IMPORT_INPUT_BYTES", 100_000)
    headers = {**await keymaker.headers("import"), "content-type": "text/csv"}
    rows = "".join(f"{n},P{n},p{n}@example.com\n" for n in range(10_000))
    body = gzip.compress(("Record ID,First Name,Email\n" + rows).encode())
    response = await client.post("/v1/imports", content=body, headers=headers)
    _assert_error_body(response, 413)
