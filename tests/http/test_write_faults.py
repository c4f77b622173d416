"""Writes under a stalled Redis, end to end (the acceptance test of issue 11's fault items).

Sixteen writers (a note writer and an event writer on each of eight customers, so they also
contend) write through the API — the app under uvicorn in its own process, so the requests
really are concurrent (Litestar's test client runs one request at a time) — while the test stalls a real redis-server again and again —
SIGSTOP/SIGCONT (commands wait in the socket buffers and run on resume, after the client gave
up: the write lands unseen) and `CLIENT PAUSE … WRITE` (writes wait; reads go on). Each
writer follows the 503's advice: it retries the same request with the same Idempotency-Key
until it is acknowledged. Asserted: no write applied twice, no 409 from an outage, no 500,
every answer within FAST seconds, and every acknowledged write present exactly once.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest
import redis

from prefstore.customers.apikeys import KeyStore
from prefstore.customers.store import CustomerStore
from prefstore.redis.connection import connect
from prefstore.redis.keyspace import KeySpace
from tests.support.app_process import app_process
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis

FAST = 1.5
CUSTOMERS = 8
WRITES_PER_WRITER = 30
STALL = 0.8
"""Seconds each stall lasts: longer than the 0.5 s socket timeout, so writes time out."""
PREFIX = "wf:"


@dataclass
class Tally:
    answers: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    replayed_after_503: int = 0
    duplicates_claimed: int = 0
    acknowledged: dict[str, list[str]] = field(default_factory=dict)
    """customer id -> the Idempotency-Keys of its acknowledged writes."""


async def _write(client: httpx.AsyncClient, tally: Tally, cid: str, key: str, kind: str) -> None:
    """One logical write, retried with its key until acknowledged (as a client should)."""
    path, body = (
        (f"/v1/customers/{cid}/notes", {"text": f"note {key}"})
        if kind == "note"
        else (f"/v1/customers/{cid}/events", {"type": "visit"})
    )
    had_503 = False
    for _try in range(40):
        start = time.monotonic()
        response = await client.post(path, json=body, headers={"Idempotency-Key": key})
        tally.latencies.append(time.monotonic() - start)
        tally.answers[response.status_code] += 1
        if response.status_code == 503:
            assert response.headers["retry-after"] == "1"
            tally.outcomes[response.json().get("outcome", "none")] += 1
            had_503 = True
            await asyncio.sleep(0.1)
            continue
        assert response.status_code == 201, response.text
        if had_503 and response.headers.get("idempotent-replayed") == "true":
            tally.replayed_after_503 += 1
        if kind == "event" and response.json()["duplicate"]:
            tally.duplicates_claimed += 1
        tally.acknowledged.setdefault(cid, []).append(key)
        return
    raise AssertionError(f"{key} never acknowledged")


async def _writer(client: httpx.AsyncClient, tally: Tally, cid: str, kind: str) -> None:
    for i in range(WRITES_PER_WRITER):
        await _write(client, tally, cid, f"{cid}-{kind}-{i}", kind)
        await asyncio.sleep(0.05)


async def _staller(server: RedisServer, done: asyncio.Event) -> int:
    """Alternate SIGSTOP and CLIENT PAUSE WRITE stalls until the writers are done."""
    admin = redis.Redis(port=server.port, socket_timeout=5)
    stalls = 0
    try:
        while not done.is_set():
            await asyncio.sleep(0.3)
            if stalls % 2 == 0:
                server.stall()
                await asyncio.sleep(STALL)
                server.resume()
            else:
                admin.execute_command("CLIENT", "PAUSE", str(int(STALL * 1000)), "WRITE")
                await asyncio.sleep(STALL)
            stalls += 1
    finally:
        server.resume()
        admin.close()
    return stalls


async def test_repeated_stalls_under_concurrent_writers(own_server: RedisServer) -> None:
    setup = connect(own_server.url, 2.0)
    made = await KeyStore(setup, KeySpace(PREFIX)).create("till", ["write"])
    # The key stays cached and no request is counted in Redis, so the stalls meet the writes
    # themselves rather than the key check or the rate limiter in front of them.
    settings = {
        "PREFSTORE_REDIS_TIMEOUT": "0.5",
        "PREFSTORE_KEY_CACHE_SECONDS": "600",
        "PREFSTORE_RATE_LIMIT_PER_KEY": "0",
    }
    tally = Tally()
    cids = [f"c{i}" for i in range(CUSTOMERS)]
    with app_process(own_server.url, PREFIX, settings) as server:
        client = httpx.AsyncClient(
            base_url=server.url,
            headers={"Authorization": f"Bearer {made.key}"},
            timeout=10,
            limits=httpx.Limits(max_connections=2 * CUSTOMERS + 4),
        )
        for cid in cids:
            created = await client.post("/v1/customers", json={"id": cid, "name": f"Person {cid}"})
            assert created.status_code == 201, created.text
        done = asyncio.Event()
        staller = asyncio.create_task(_staller(own_server, done))
        started = time.monotonic()
        try:
            await asyncio.gather(
                *(_writer(client, tally, cid, kind) for cid in cids for kind in ("note", "event"))
            )
        finally:
            done.set()
            stalls = await staller
            await client.aclose()
        took = time.monotonic() - started

    store = CustomerStore(setup, KeySpace(PREFIX))
    stored_twice = 0
    for cid in cids:
        record = await store.get_record(cid)
        notes = Counter(n.text for n in record.notes)
        events = Counter(e.id for e in await store.all_events(cid))
        stored_twice += sum(c - 1 for c in notes.values()) + sum(c - 1 for c in events.values())
        keys = tally.acknowledged[cid]
        assert sorted(notes) == sorted(f"note {k}" for k in keys if "-note-" in k)
        assert sorted(events) == sorted(k for k in keys if "-event-" in k)
        # One version per write: nothing was applied twice, not even unseen.
        assert record.version == 1 + len(keys)
    await setup.aclose()

    ordered = sorted(tally.latencies)
    print(
        f"\n{stalls} stalls of {STALL} s (SIGSTOP and CLIENT PAUSE WRITE alternating) in "
        f"{took:.1f} s; {len(ordered)} answers to {2 * CUSTOMERS} writers: {dict(tally.answers)}; "
        f"503 outcomes {dict(tally.outcomes)}; landed despite a 503 (retry replayed): "
        f"{tally.replayed_after_503}; stored twice: {stored_twice}; latency median "
        f"{statistics.median(ordered) * 1000:.0f} ms, p99 "
        f"{ordered[int(len(ordered) * 0.99)] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )
    assert stored_twice == 0
    assert tally.answers[409] == 0 and tally.answers[500] == 0
    assert tally.duplicates_claimed == 0, "a first-time event was answered duplicate"
    assert ordered[-1] < FAST, ordered[-1]
    assert tally.answers[503] > 0, "the stalls did not reach the writers: the test tested nothing"
