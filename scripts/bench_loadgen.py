"""Built-in load generator: the fallback when `wrk` is not installed.

Keep-alive HTTP/1.1 over raw asyncio streams (uvloop when available), N connections, one
request in flight per connection, for a fixed duration. Prints one JSON line:
{"requests", "seconds", "rps", "p50_ms", "p99_ms", "errors"}.

It costs more CPU per request than wrk, and on a small machine it shares the cores with the
server, so its ceiling is lower; the benchmark quotes ratios measured with the same client.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import json
import random
import re
import statistics
import time
from collections.abc import Callable

_CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


ZIPF_S = 1.1


def zipf_cumulative(customers: int, s: float = ZIPF_S) -> list[float]:
    """Cumulative weights of ranks 1..n under Zipf(s): rank r is customer r - 1."""
    total, out = 0.0, []
    for rank in range(1, customers + 1):
        total += rank**-s
        out.append(total)
    return out


def path_maker(kind: str, customers: int, seed: int, dist: str = "uniform") -> Callable[[], str]:
    """Random targets across all seeded customers (same scheme as the wrk script)."""
    rng = random.Random(seed)
    if dist == "zipf":
        cumulative = zipf_cumulative(customers)
        top = cumulative[-1]

        def pick() -> int:
            return min(bisect.bisect_left(cumulative, rng.random() * top), customers - 1)
    else:

        def pick() -> int:
            return rng.randrange(customers)

    if kind == "bare":
        return lambda: "/bare"
    if kind == "id":
        return lambda: f"/v1/customers/c{pick():06d}"
    if kind == "phone":
        return lambda: f"/v1/lookup?phone=%2B1212{2_000_000 + pick()}"
    if kind == "email":
        return lambda: f"/v1/lookup?email=user{pick()}%40example.com"
    raise ValueError(kind)


async def connection(
    host: str, port: int, key: str, next_path: Callable[[], str], deadline: float
) -> tuple[list[int], int]:
    reader, writer = await asyncio.open_connection(host, port)
    latencies: list[int] = []
    errors = 0
    auth = f"Authorization: Bearer {key}\r\n".encode()
    try:
        while time.perf_counter() < deadline:
            request = b"GET " + next_path().encode() + b" HTTP/1.1\r\nHost: bench\r\n" + auth
            started = time.perf_counter_ns()
            writer.write(request + b"\r\n")
            head = await reader.readuntil(b"\r\n\r\n")
            found = _CONTENT_LENGTH.search(head)
            if found:
                await reader.readexactly(int(found.group(1)))
            latencies.append(time.perf_counter_ns() - started)
            if head[9:10] != b"2":
                errors += 1
    finally:
        writer.close()
    return latencies, errors


async def run(args: argparse.Namespace) -> dict[str, float | int]:
    deadline = time.perf_counter() + args.duration
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            connection(
                args.host,
                args.port,
                args.key,
                path_maker(args.kind, args.customers, n, args.dist),
                deadline,
            )
            for n in range(args.connections)
        )
    )
    seconds = time.perf_counter() - started
    latencies = sorted(ns for lats, _ in results for ns in lats)
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 3),
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(cuts[49] / 1e6, 3),
        "p99_ms": round(cuts[98] / 1e6, 3),
        "errors": sum(errors for _, errors in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--kind", choices=["bare", "id", "phone", "email"], required=True)
    parser.add_argument("--dist", choices=["uniform", "zipf"], default="uniform")
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(run(args))))


if __name__ == "__main__":
    main()
