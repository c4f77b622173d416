"""Lookup latency while a 100k-row import runs over HTTP (issue 11: imports never block
lookups). Target: lookup p99 <= 20 ms during the import.

    .venv/bin/python scripts/bench_import_lookups.py [--rows 100000] [--rate 100] [--runs 3]

One run: starts a redis-server on a free port, `prefstore serve` on it (the product as
shipped, a separate process), creates a lookup key and an import key with `prefstore keys
create`, writes the rows with `scripts/gen_crm_export.py` (fixed seed), seeds one customer to
look up, then, in this process, sends lookups by id at `--rate` per second on one
connection while a second connection POSTs the file to /v1/imports. Prints the lookup
p50/p99/max before the import (5 s) and during it, the import's time and summary counts.
With `--runs N` it does that N times (a fresh Redis and server each time) and then prints
the median of each figure over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from prefstore.redis.embedded import find_redis_server

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PREFSTORE = str(Path(sys.executable).parent / "prefstore")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_key(env: dict[str, str], name: str, scope: str) -> str:
    out = subprocess.run(
        [PREFSTORE, "keys", "create", "--name", name, "--scope", scope],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return next(w for w in out.split() if w.startswith("psk_"))


async def lookups(
    client: httpx.AsyncClient, key: str, rate: float, stop: asyncio.Event
) -> list[float]:
    samples: list[float] = []
    headers = {"authorization": f"Bearer {key}"}
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/v1/customers/bench-1", headers=headers)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        await asyncio.sleep(max(0.0, 1 / rate - (time.perf_counter() - started)))
    return samples


Figures = tuple[float, float, float]
"""p50, p99, max in ms."""


def figures(samples: list[float]) -> Figures:
    ms = sorted(s * 1000 for s in samples)
    p99 = ms[max(0, int(len(ms) * 0.99) - 1)]
    return statistics.median(ms), p99, ms[-1]


def row(name: str, count: int | str, values: Figures) -> str:
    return f"| {name} | {count} | " + " | ".join(f"{v:.2f}" for v in values) + " |"


TABLE_HEAD = "| phase | lookups | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|"


async def measure(
    base: str, lookup_key: str, import_key: str, data: Path, rate: float
) -> tuple[Figures, Figures, float]:
    async with (
        httpx.AsyncClient(base_url=base, timeout=600) as looker,
        httpx.AsyncClient(base_url=base, timeout=600) as importer,
    ):
        stop = asyncio.Event()
        task = asyncio.create_task(lookups(looker, lookup_key, rate, stop))
        await asyncio.sleep(5)
        stop.set()
        before = await task
        stop = asyncio.Event()
        task = asyncio.create_task(lookups(looker, lookup_key, rate, stop))
        body = await asyncio.to_thread(data.read_bytes)
        started = time.perf_counter()
        response = await importer.post(
            "/v1/imports",
            content=body,
            headers={"authorization": f"Bearer {import_key}", "content-type": "text/csv"},
        )
        seconds = time.perf_counter() - started
        stop.set()
        during = await task
    result = response.json()
    print(
        f"import: HTTP {response.status_code} in {seconds:.1f} s; rows {result.get('rows')}, "
        f"created {result.get('created')}, rejected {result.get('rejected')}"
    )
    print(TABLE_HEAD)
    print(row("before the import", len(before), figures(before)))
    print(row("during the import", len(during), figures(during)))
    return figures(before), figures(during), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    results = [one_run(args.rows, args.rate) for _ in range(args.runs)]
    if args.runs > 1:
        seconds = statistics.median(r[2] for r in results)
        print(f"\nmedians over {args.runs} runs (import {seconds:.1f} s)\n{TABLE_HEAD}")
        for name, phase in (
            ("before the import", [r[0] for r in results]),
            ("during the import", [r[1] for r in results]),
        ):
            p50, p99, top = (statistics.median(f[i] for f in phase) for i in range(3))
            print(row(name, "", (p50, p99, top)))


def one_run(rows: int, rate: float) -> tuple[Figures, Figures, float]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis_port, http_port = free_port(), free_port()
        redis = subprocess.Popen(
            [find_redis_server(), "--port", str(redis_port), "--save", "", "--dir", tmp],
            stdout=subprocess.DEVNULL,
        )
        env = {**os.environ, "PREFSTORE_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
        server = None
        try:
            time.sleep(0.5)
            data = work / "crm.csv"
            subprocess.run(
                [
                    PYTHON,
                    str(ROOT / "scripts/gen_crm_export.py"),
                    "--rows",
                    str(rows),
                    "-o",
                    str(data),
                ],
                check=True,
            )
            lookup_key = make_key(env, "bench-lookup", "lookup")
            import_key = make_key(env, "bench-import", "import")
            write_key = make_key(env, "bench-write", "write")
            server = subprocess.Popen(
                [PREFSTORE, "serve", "--port", str(http_port)],
                env={**env, "PREFSTORE_RATE_LIMIT_PER_KEY": "0", "PREFSTORE_LOG_LEVEL": "warning"},
            )
            base = f"http://127.0.0.1:{http_port}"
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            made = httpx.post(
                f"{base}/v1/customers",
                headers={"authorization": f"Bearer {write_key}"},
                content=json.dumps({"id": "bench-1", "name": "Bench One"}),
            )
            assert made.status_code == 201, made.text
            return asyncio.run(measure(base, lookup_key, import_key, data, rate))
        finally:
            if server is not None:
                server.terminate()
                server.wait()
            redis.terminate()
            redis.wait()


if __name__ == "__main__":
    main()
