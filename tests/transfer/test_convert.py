"""The import's speed-ups must not change what it does: rows converted in a worker process
give the same summary, rejections and Redis state as rows converted inline, and the phone
fast path gives exactly what phonenumbers gives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from prefstore.customers.store import CustomerStore
from prefstore.errors import InvalidInput
from prefstore.models.results import ImportSummary, RowRejection
from prefstore.redis.keyspace import KeySpace
from prefstore.transfer import rows
from prefstore.transfer import workers as pool
from prefstore.transfer.rows import Incoming
from tests.support.imports import Sink, run_import
from tests.support.keyspace import snapshot

ROWS = [
    "Record ID,First Name,Last Name,Email,Phone Number,Allergies,Favourite drink,Notes,Region",
    "701,Ada,Lovelace,Ada@Example.com,(415) 555-0123,Peanuts (severe),Tea,Window seat,EU",
    "702,Grace,Hopper,not-an-email,415-555-0199,,,,US",  # rejected: email
    "703,Alan,Turing,alan@example.com,(212) 555-0100,,Coffee,,UK",
    "704,,,,,,,,",  # rejected: nothing to match on
    "705,Katherine,Johnson,kj@example.com,415-555-0123,,,,US",  # phone owned by 701
    "701,Ada,Lovelace,ada@example.com,(415) 555-0123,Shellfish,Tea,Likes jazz,EU",  # update
    "706,Edsger,Dijkstra,ed@example.com,(999) 555-0100,,,,NL",  # rejected: phone
    "707,Barbara,Liskov,bl@example.com,,Eggs;Milk (intolerance),Water,,US",
    "708,Ken,Thompson,ken@example.com,+1 646 466 9570,,,,US",
    '709,Dennis,Ritchie,dmr@example.com,,,"unterminated,,,US',
]
DATA = ("\n".join(ROWS) + "\n").encode()
FIXED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def _without_prefix(state: dict[bytes, Any], prefix: str) -> dict[bytes, Any]:
    """Key names without the run's prefix; the suppression salt is random per store."""
    found = {key.removeprefix(prefix.encode()): value for key, value in state.items()}
    found.pop(b"meta:suppression-salt")
    return found


async def test_worker_conversion_writes_what_inline_conversion_writes(
    redis_client: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small chunks and batches: results cross chunk and batch boundaries in both orders.
    monkeypatch.setattr(pool, "CHUNK", 3)
    runs: list[tuple[ImportSummary, list[tuple[int, Any, RowRejection]], dict[bytes, Any]]] = []
    for workers in (0, 1):
        prefix = f"w{workers}-{id(runs)}:"
        store = CustomerStore(redis_client, KeySpace(prefix), clock=lambda: FIXED)
        sink = Sink()
        summary = await run_import(store, DATA, sink, workers=workers, batch_size=2)
        summary.seconds = summary.rows_per_second = 0
        state = _without_prefix(await snapshot(redis_client, prefix), prefix)
        runs.append((summary, sink.rows, state))
    (inline, inline_rejects, inline_state), (pooled, pooled_rejects, pooled_state) = runs
    assert (inline.created, inline.updated, inline.rejected) == (4, 1, 5)
    assert pooled == inline
    assert pooled_rejects == inline_rejects
    assert [line for line, _raw, _why in pooled_rejects] == [3, 5, 6, 8, 11]
    assert pooled_state == inline_state


async def test_worker_results_come_back_in_input_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefstore.transfer.mapping import Mapping

    monkeypatch.setattr(pool, "CHUNK", 4)
    header = ROWS[0].split(",")
    mapping = Mapping.build("auto", None, ()).resolve(header)
    cells = [row.split(",") for row in ROWS[1:-1]] * 5
    parser_error = InvalidInput("row", "unterminated quoted field")

    async def parsed() -> AsyncIterator[pool.Parsed]:
        for line, row in enumerate(cells, start=2):
            yield line, (parser_error if line == 9 else row), mapping

    got = [item async for item in pool.converted_in_workers(parsed(), "US", 1)]
    assert [line for line, _raw, _result in got] == list(range(2, len(cells) + 2))
    for line, raw, result in got:
        if line == 9:
            assert result is parser_error
            continue
        expected = rows.convert(line, raw, mapping, "US")
        assert type(result) is type(expected)
        if isinstance(result, InvalidInput) and isinstance(expected, InvalidInput):
            assert (result.field, result.reason) == (expected.field, expected.reason)
        else:
            assert isinstance(result, Incoming)
            assert result == expected and result.raw is raw
