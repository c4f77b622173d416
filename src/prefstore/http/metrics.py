"""Prometheus metrics: Litestar's middleware for every route, pre-bound children for the
lookup routes' fast path — the same metric families, so `/metrics` shows them side by side.

Litestar's `PrometheusMiddleware` builds a `Request`, a label dict and three label lookups per
request; the fast path records a count and a duration into children bound once per
(route, status), which measured ~2 µs a request (docs/BENCHMARKS.md). The in-progress gauge
is not kept for the fast path.
"""

from __future__ import annotations

from typing import Any

from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from prometheus_client import Counter, Histogram

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
