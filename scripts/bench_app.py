"""Bench-only ASGI app: the product's `create_app` plus two routes the product must not ship.

* `GET /v1/bench/bare` — the ceiling: same middleware stack (API-key auth included; under
  /v1/ so the same CSRF exclusion applies as to lookups), same scope guard as a lookup,
  returns `BENCH_BODY_BYTES` bytes of JSON and an ETag, no Redis.
* `GET /v1/bench/gc` — garbage-collector counters (collections and pause time per generation,
  measured with `gc.callbacks`), so the benchmark can report what GC cost in each phase.

Served by `scripts/bench_lookup.py` as `bench_app:app` (a factory) under uvicorn or granian.
Configuration comes from the same PREFSTORE_* environment as the product.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.datastructures import State

from prefstore.config import Settings
from prefstore.http.app import create_app
from prefstore.http.auth import require_scope
from prefstore.http.deps import services_of
from prefstore.http.runtime import install_runtime_tuning


def _body(size: int) -> bytes:
    """Valid JSON of exactly `size` bytes."""
    filler = max(size - len(b'{"x":""}'), 0)
    return b'{"x":"' + b"a" * filler + b'"}'


BODY = _body(int(os.environ.get("BENCH_BODY_BYTES", "600")))


class GcClock:
    """Counts collections per generation and their total pause, via `gc.callbacks`."""

    def __init__(self) -> None:
        self.count = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.worst = [0.0, 0.0, 0.0]
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        generation = int(info["generation"])
        spent = time.perf_counter() - self._started
        self.count[generation] += 1
        self.seconds[generation] += spent
        self.worst[generation] = max(self.worst[generation], spent)

    def snapshot(self) -> dict[str, Any]:
        return {
            "count": list(self.count),
            "ms": [round(s * 1000, 3) for s in self.seconds],
            "worst_ms": [round(s * 1000, 3) for s in self.worst],
            "threshold": list(gc.get_threshold()),
            "frozen": gc.get_freeze_count(),
            "tracked": len(gc.get_objects()) if os.environ.get("BENCH_GC_TRACKED") else None,
        }


GC_CLOCK = GcClock()


@get("/v1/bench/bare", guards=[require_scope], opt={"scope": "lookup"}, include_in_schema=False)
async def bare(request: Request[Any, Any, State]) -> Response[bytes]:
    return Response(content=BODY, media_type=MediaType.JSON, headers={"etag": '"1"'})


@get("/v1/bench/gc", guards=[require_scope], opt={"scope": "lookup"}, include_in_schema=False)
async def gc_stats() -> dict[str, Any]:
    snapshot = GC_CLOCK.snapshot()
    GC_CLOCK.worst = [0.0, 0.0, 0.0]
    return snapshot


def app() -> Litestar:
    """Factory: the product app, tuned exactly as `prefstore serve` tunes it, plus the bench
    routes. Experiments: `BENCH_NO_TUNING=1` leaves the GC untuned; `BENCH_READS=pool` sends
    lookups through redis-py's pool instead of the pipelined connection."""
    application = create_app(Settings.from_env())
    application.register(bare)
    application.register(gc_stats)
    if not os.environ.get("BENCH_NO_TUNING"):
        install_runtime_tuning(application)
    if os.environ.get("BENCH_READS") == "pool":
        # Experiment: lookups through redis-py's pool instead of the pipelined connection.
        async def pool_reads() -> None:
            services_of(application.state).reader._reads = None

        application.on_startup.append(pool_reads)
    gc.callbacks.append(GC_CLOCK)
    return application
