"""Process tuning for serving: the garbage collector.

Measured (docs/BENCHMARKS.md): under lookup load the cyclic GC ran full collections
over every object the process had built at start-up (Litestar's routing and OpenAPI
structures, phonenumbers metadata, …) — tens of milliseconds each, the whole of the p99.
None of those objects ever becomes garbage, so after start-up we move them out of the
collector's sight (`gc.freeze`) and make young-generation collections rarer.
"""

from __future__ import annotations

import gc

from litestar import Litestar

GC_THRESHOLD = (50_000, 20, 100)
"""Young-generation threshold well above the default 700: a request allocates a few hundred
container objects that die young, so collections at 700 run many times per batch of requests
and find almost nothing."""


def freeze_startup_objects(threshold: tuple[int, int, int] = GC_THRESHOLD) -> None:
    """Collect once, then exclude everything alive now from future collections."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*threshold)


def install_runtime_tuning(app: Litestar) -> None:
    """Freeze start-up objects once the app has started (services built, Redis connected)."""

    async def tune() -> None:
        freeze_startup_objects()

    app.on_startup.append(tune)
