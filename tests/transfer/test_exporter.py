"""Export: NDJSON that import restores; export -> import into an empty store -> export is
identical, but for the authors: a restore is signed by the importing key (issue 11, found 7),
so after one restore every author is that key's name and the next round trip is
byte-identical."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from prefstore.customers.store import CustomerStore
from prefstore.models.inputs import (
    ConsentInput,
    EventInput,
    FollowUpInput,
    FollowUpResolve,
    NoteInput,
    PreferenceInput,
)
from prefstore.redis.keyspace import KeySpace
from prefstore.transfer import exporter
from tests.support.imports import export_bytes, run_import
from tests.support.keyspace import snapshot

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "customers.csv"


@pytest.fixture
async def empty_store(redis_client: Redis) -> AsyncIterator[CustomerStore]:
    prefix = f"t{uuid.uuid4().hex[:10]}:"
    yield CustomerStore(redis_client, KeySpace(prefix))
    async for key in redis_client.scan_iter(match=f"{prefix}*"):
        await redis_client.delete(key)


async def _populate(store: CustomerStore) -> None:
    await run_import(store, SAMPLE.read_bytes())
    await store.add_note(
        "1001", NoteInput(text="Staff only", visibility="staff"), actor="desk", expect_version=None
    )
    for n, item in enumerate(["Latte", "Scone", "Latte"]):
        await store.record_event(
            "1002",
            EventInput(type="purchase", items=[item], amount=3.3 + n, operation_id=f"op-{n}"),
            actor="pos",
        )
    # Follow-ups (one resolved), consent and a comparative like travel with the record.
    for text in ("Comp the dessert we owe her", "Ask about the knee"):
        await store.add_follow_up(
            "1002", FollowUpInput(text=text), actor="desk", expect_version=None
        )
    owed = (await store.get_record("1002")).follow_ups[0].id
    await store.resolve_follow_up(
        "1002", owed, FollowUpResolve(note="comped"), actor="desk", expect_version=None
    )
    await store.change_consent(
        "1002", ConsentInput(email="opted_out", sms="opted_in"), actor="desk", expect_version=None
    )
    await store.add_preference(
        "1002", PreferenceInput(label="Latte", over="Flat white"), actor="desk", expect_version=None
    )


async def test_export_import_export_is_identical(
    store: CustomerStore, empty_store: CustomerStore, redis_client: Redis
) -> None:
    await _populate(store)
    first = await export_bytes(redis_client, store)
    lines = first.decode().splitlines()
    assert len(lines) == 5
    assert [json.loads(line)["customer"]["id"] for line in lines] == sorted(
        json.loads(line)["customer"]["id"] for line in lines
    )
    assert "version" not in json.loads(lines[0])["customer"]
    summary = await run_import(empty_store, first)
    assert (summary.created, summary.rejected) == (5, 0)
    restored = await export_bytes(redis_client, empty_store)
    assert _unsigned(restored) == _unsigned(first)
    assert _authors(restored) == {"import"} and _authors(first) == {"import", "desk", "pos"}
    first = restored
    grace = await empty_store.get_record("1002")
    assert (grace.history.purchases, len(await empty_store.all_events("1002"))) == (3, 3)
    assert [f.resolved is not None for f in grace.follow_ups] == [True, False]
    assert grace.follow_ups[0].resolved.note == "comped"  # type: ignore[union-attr]
    assert (grace.consent.email.status, grace.consent.email.source) == ("opted_out", "api")
    assert grace.history.item_last_seen.keys() == {"latte", "scone"}
    assert [p.over for p in grace.preferences if p.label == "Latte"] == ["Flat white"]
    # Restoring the same export again changes nothing.
    before = await snapshot(redis_client, empty_store.keys.prefix)
    again = await run_import(empty_store, first)
    assert again.unchanged == 5
    assert await snapshot(redis_client, empty_store.keys.prefix) == before


_AUTHOR_FIELDS = ("confirmed_by", "added_by", "author", "recorded_by", "created_by", "by")


def _walk(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: None if k in _AUTHOR_FIELDS else _walk(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v) for v in value]
    return value


def _unsigned(ndjson: bytes) -> list[Any]:
    return [_walk(json.loads(line)) for line in ndjson.splitlines()]


def _authors(ndjson: bytes) -> set[str]:
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, dict):
            found.update(v for k, v in value.items() if k in _AUTHOR_FIELDS and v)
            for v in value.values():
                visit(v)
        elif isinstance(value, list):
            for v in value:
                visit(v)

    for line in ndjson.splitlines():
        visit(json.loads(line))
    return found


async def test_export_spills_sorted_runs(
    store: CustomerStore, redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More ids than fit in one in-memory run: merged from temporary files, still sorted."""
    rows = "".join(f"{n},P{n},Q,p{n}@example.com\n" for n in range(40))
    await run_import(store, "Record ID,First Name,Last Name,Email\n" + rows)
    monkeypatch.setattr(exporter, "RUN_SIZE", 7)
    monkeypatch.setattr(exporter, "FETCH_BATCH", 5)
    ids = [
        json.loads(x)["customer"]["id"]
        for x in (await export_bytes(redis_client, store)).splitlines()
    ]
    assert ids == sorted(str(n) for n in range(40))


@pytest.mark.real_redis
def test_cli_export_then_import(redis_server: Any, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from prefstore.cli import main

    prefix_a, prefix_b = f"ca{uuid.uuid4().hex[:8]}:", f"cb{uuid.uuid4().hex[:8]}:"
    env = {"PREFSTORE_REDIS_URL": redis_server.url, "PREFSTORE_KEY_PREFIX": prefix_a}
    runner = CliRunner()
    try:
        first = runner.invoke(
            main, ["import", "--quiet", "--rejects", str(tmp_path / "r.csv"), str(SAMPLE)], env=env
        )
        assert first.exit_code == 0, first.output
        assert "created" in first.output and (tmp_path / "r.csv").exists()
        out = tmp_path / "all.ndjson.gz"
        exported = runner.invoke(main, ["export", "-o", str(out)], env=env)
        assert exported.exit_code == 0 and "exported 5 customers" in exported.output
        dry = runner.invoke(
            main,
            ["import", "--dry-run", "--quiet", str(out)],
            env={**env, "PREFSTORE_KEY_PREFIX": prefix_b},
        )
        assert dry.exit_code == 0 and "dry run" in dry.output
        restored = runner.invoke(
            main, ["import", "--quiet", str(out)], env={**env, "PREFSTORE_KEY_PREFIX": prefix_b}
        )
        assert restored.exit_code == 0, restored.output
        again = runner.invoke(main, ["export"], env={**env, "PREFSTORE_KEY_PREFIX": prefix_b})
        assert gzip.decompress(out.read_bytes()) == again.stdout_bytes
    finally:
        import redis

        sync = redis.Redis.from_url(redis_server.url)
        for prefix in (prefix_a, prefix_b):
            for key in sync.scan_iter(match=f"{prefix}*"):
                sync.delete(key)
        sync.close()
