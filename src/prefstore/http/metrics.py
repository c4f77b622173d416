"""Prometheus metrics: Litestar's middleware for every route, pre-bound children for the
lookup routes' fast path — the same metric families, so `/metrics` shows them side by side —
and the service's own: Redis round trips, the search index and its lag, HTTP imports.

Litestar's `PrometheusMiddleware` builds a `Request`, a label dict and three label lookups per
request; the fast path records a count and a duration into children bound once per
(route, status), which measured ~2 µs a request (docs/BENCHMARKS.md). The in-progress gauge
is not kept for the fast path.

The search index's size and lag and Redis's answer to a PING are read when `/metrics` is
scraped (`refresh`), so they cost nothing between scrapes. Every figure is this process's:
each process has its own index, and a scrape reaches one process (docs/OPERATIONS.md).
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis

from prefstore.redis.connection import RedisClient
from prefstore.services import Services

log = logging.getLogger(__name__)

PROMETHEUS = PrometheusConfig(
    app_name="prefstore", prefix="prefstore", group_path=True, exclude=["^/metrics$"]
)
LABELS = ["method", "path", "status_code", "app_name"]
"""The labels Litestar's middleware gives its families (no extra labels configured)."""


def _family(kind: type[Counter] | type[Histogram], suffix: str, documentation: str) -> Any:
    """The family Litestar's middleware uses (it keeps them in a class-level registry and
    creates each on first use): created here first when no request has created it yet."""
    name = f"{PROMETHEUS.prefix}_{suffix}"
    families = PrometheusMiddleware._metrics
    if name not in families:
        families[name] = kind(name=name, documentation=documentation, labelnames=LABELS)
    return families[name]


class RouteMetrics:
    def __init__(self) -> None:
        self._count = _family(Counter, "requests_total", "Total requests")
        self._time = _family(Histogram, "request_duration_seconds", "Request duration, in seconds")
        self._errors = _family(Counter, "requests_error_total", "Total errors in requests")
        self._bound: dict[tuple[str, int], tuple[Any, Any]] = {}

    def record(self, path: str, status: int, seconds: float) -> None:
        bound = self._bound.get((path, status))
        if bound is None:
            labels = ("GET", path, str(status), PROMETHEUS.app_name)
            bound = self._bound[(path, status)] = (
                self._count.labels(*labels),
                self._time.labels(*labels),
            )
        bound[0].inc()
        bound[1].observe(seconds)
        if status >= 500:
            self._errors.labels("GET", path, str(status), PROMETHEUS.app_name).inc()


# ------------------------------------------------------------------ Redis round trips
REDIS_SECONDS = Histogram(
    "prefstore_redis_seconds",
    "Round trips to Redis, in seconds, by what was sent: `ping` (readiness checks and each "
    "scrape), `transaction` (a write's MULTI/EXEC), `pipeline` (other pipelines)",
    ["op"],
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1),
)
_PING = REDIS_SECONDS.labels("ping")
_TRANSACTION = REDIS_SECONDS.labels("transaction")
_PIPELINE = REDIS_SECONDS.labels("pipeline")
REDIS_UP = Gauge("prefstore_redis_up", "1 when Redis answered the last scrape's PING, else 0")


async def timed_ping(redis: Redis) -> None:
    started = time.perf_counter()
    await redis.ping()
    _PING.observe(time.perf_counter() - started)


def _pipeline_done(transaction: bool, seconds: float) -> None:
    (_TRANSACTION if transaction else _PIPELINE).observe(seconds)


def time_pipelines(redis: Redis) -> None:
    """Time every pipeline the client runs (a write's MULTI/EXEC is one). Only the service's
    own client can (`RedisClient`); others (fakeredis in tests) go untimed."""
    if isinstance(redis, RedisClient):
        redis.timed = _pipeline_done


# ------------------------------------------------------------------ the search index
INDEX_CUSTOMERS = Gauge(
    "prefstore_search_index_customers", "Customers in this process's search index"
)
INDEX_LOADED = Gauge(
    "prefstore_search_index_loaded", "1 once this process's search index is loaded, else 0"
)
INDEX_REBUILDS = Gauge(
    "prefstore_search_index_rebuilds",
    "Full rebuilds of this process's search index since it started (the feed had a gap)",
)
LAG_SECONDS = Gauge(
    "prefstore_search_lag_seconds",
    "Age of the oldest change-feed entry this process's search index has not applied yet "
    "(0: caught up; NaN: not loaded, or Redis did not answer)",
)
LAG_COUNTED = 1000
"""Entries read to count the lag: past this many, the count stops (the age still says how far)."""
LAG_ENTRIES = Gauge(
    "prefstore_search_lag_entries",
    f"Change-feed entries this process's search index has not applied yet (counted up to "
    f"{LAG_COUNTED})",
)


async def refresh(services: Services) -> None:
    """Read what is measured at scrape time: Redis's PING, the index's size and lag."""
    follower = services.search
    INDEX_CUSTOMERS.set(len(follower.index))
    INDEX_LOADED.set(1 if follower.loaded.is_set() else 0)
    INDEX_REBUILDS.set(follower.rebuilds)
    try:
        await timed_ping(services.redis)
        lag = await _lag(services) if follower.loaded.is_set() else (math.nan, math.nan)
    except Exception as exc:  # a scrape answers whatever Redis does; the gauges say so
        log.warning("metrics: Redis did not answer: %r", exc)
        REDIS_UP.set(0)
        lag = (math.nan, math.nan)
    else:
        REDIS_UP.set(1)
    LAG_SECONDS.set(lag[0])
    LAG_ENTRIES.set(lag[1])


async def _lag(services: Services) -> tuple[float, float]:
    """(age of the oldest entry not applied, entries not applied): the feed's entries after
    the follower's position, one XRANGE (empty when caught up). Entry ids are Redis's clock
    in milliseconds, so the age is off by however far this host's clock is from Redis's."""
    after = services.search.position
    behind: Any = await services.redis.xrange(
        services.keys.changes, min=f"({after}", count=LAG_COUNTED
    )
    if not behind:
        return 0.0, 0.0
    first = behind[0][0]
    written_ms = int((first.decode() if isinstance(first, bytes) else str(first)).split("-")[0])
    return max(0.0, time.time() - written_ms / 1000), float(len(behind))


# ------------------------------------------------------------------ imports
IMPORT_ROWS = Counter("prefstore_import_rows", "Rows read by HTTP imports in this process")
IMPORT_REJECTED = Counter(
    "prefstore_import_rows_rejected", "Rows HTTP imports in this process rejected"
)
IMPORTS_RUNNING = Gauge("prefstore_imports_in_progress", "HTTP imports running in this process")


class ImportProgress:
    """An import's running totals (rows read, rows rejected), as the importer reports them,
    counted into the process's counters as they grow."""

    def __init__(self) -> None:
        self._rows = self._rejected = 0

    def __call__(self, rows: int, rejected: int) -> None:
        IMPORT_ROWS.inc(max(0, rows - self._rows))
        IMPORT_REJECTED.inc(max(0, rejected - self._rejected))
        self._rows, self._rejected = max(rows, self._rows), max(rejected, self._rejected)
