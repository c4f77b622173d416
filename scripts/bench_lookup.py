"""Lookup benchmark: bare endpoint (ceiling) vs lookup by id vs lookup by phone.

    .venv/bin/python scripts/bench_lookup.py                  # everything, defaults
    .venv/bin/python scripts/bench_lookup.py --server both    # uvicorn and granian side by side

What it does, in one run:
1. starts a fresh `redis-server` (the one `prefstore.embedded.find_redis_server()` finds) on a
   free port, or uses `--redis-url`;
2. seeds `--customers` customers through `CustomerStore.create` (the real write path) and
   creates a lookup-scoped API key;
3. serves `scripts/bench_app.py` (the product app + a bare route of the same size as a card)
   under a production ASGI server in a separate process;
4. loads it with wrk (or, when wrk is absent, `scripts/bench_loadgen.py`) in a separate
   process at `--connections` connections, interleaving the phases bare, id, phone, bare, …
   `--runs` times, so machine noise hits all three alike;
5. prints medians (req/s, p50, p99), the ratios id/bare and phone/bare (median over rounds
   of the per-round ratio) and the gen-2 GC count per phase, as a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.errors import Conflict
from prefstore.models.inputs import AllergyInput, CustomerCreate, NoteInput, PreferenceInput
from prefstore.redis.connection import connect
from prefstore.redis.embedded import find_redis_server
from prefstore.redis.keyspace import CARD_FIELD_TOUCHPOINT
from prefstore.services import Services

SCRIPTS = Path(__file__).resolve().parent
PREFIX = "bench:"
SEEDED_MARK = f"{PREFIX}meta:seeded"
PHASES = ("bare", "id", "phone")
TARGETS = {"id": 0.7, "phone": 0.6}
P99_TARGET_MS = 10.0


# ------------------------------------------------------------------ redis and seeding
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def fresh_redis(workdir: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            find_redis_server(),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--daemonize",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def customer(i: int) -> CustomerCreate:
    """A realistic small card: 1 allergy, 4 preferences, a note, 3 identifiers."""
    return CustomerCreate(
        id=f"c{i:06d}",
        name=f"Customer {i:06d} Example",
        emails=[f"user{i}@example.com"],
        phones=[f"+1212{2_000_000 + i}"],
        identifiers={"loyalty": f"L-{i}"},
        tags=["regular"],
        allergies=[AllergyInput(label="Peanuts", severity="severe", note="carries an EpiPen")],
        preferences=[
            PreferenceInput(label="Oat milk", sentiment="likes", category="beverage"),
            PreferenceInput(label="Window table", sentiment="likes", category="seating"),
            PreferenceInput(label="Chai latte", sentiment="likes", category="beverage"),
            PreferenceInput(label="Cilantro", sentiment="dislikes", category="food"),
        ],
        notes=[NoteInput(text="Prefers a quiet corner; usually comes on Fridays.")],
    )


async def wait_for_redis(client: Redis) -> None:
    for _ in range(200):
        with contextlib.suppress(Exception):
            if await client.ping():
                return
        await asyncio.sleep(0.05)
    raise RuntimeError("redis-server did not answer")


async def seed(url: str, customers: int, concurrency: int = 32) -> tuple[str, int]:
    """Seed through the real write path; returns (lookup key, card body size in bytes)."""
    client = connect(url, timeout=5.0)
    try:
        await wait_for_redis(client)
        services = Services.build(Settings(key_prefix=PREFIX), client)
        keys, store = services.keys, services.store
        already = int(await client.get(SEEDED_MARK) or 0)
        if already < customers:
            queue = iter(range(customers))
            started = time.perf_counter()

            async def writer() -> None:
                for i in queue:
                    with contextlib.suppress(Conflict):
                        await store.create(customer(i), actor="bench")

            await asyncio.gather(*(writer() for _ in range(concurrency)))
            await client.set(SEEDED_MARK, customers)
            took = time.perf_counter() - started
            log(f"seeded {customers} customers in {took:.1f} s ({customers / took:.0f}/s)")
        made = await services.keystore.create("bench-pos", ["lookup"])
        sample = await client.hget(keys.card("c000000"), CARD_FIELD_TOUCHPOINT)
        assert sample is not None
        return made.key, len(sample)
    finally:
        await client.aclose()


# ------------------------------------------------------------------ the server under test
def server_command(server: str, port: int) -> list[str]:
    """The production settings `prefstore serve` uses, applied to the bench app."""
    where = ["--host", "127.0.0.1", "--port", str(port)]
    if server == "uvicorn":
        fixed = "--factory --loop uvloop --http httptools --no-access-log --log-level warning"
        target = ["--app-dir", str(SCRIPTS), "bench_app:app"]
        return [sys.executable, "-m", "uvicorn", *fixed.split(), *target, *where]
    granian = str(Path(sys.executable).with_name("granian"))
    fixed = "--interface asgi --factory --loop uvloop --no-access-log --log-level warning"
    return [granian, *fixed.split(), "--working-dir", str(SCRIPTS), *where, "bench_app:app"]


@contextlib.contextmanager
def serving(
    server: str, redis_url: str, body_bytes: int, env_extra: dict[str, str]
) -> Iterator[int]:
    port = free_port()
    env = {
        **os.environ,
        "PREFSTORE_REDIS_URL": redis_url,
        "PREFSTORE_KEY_PREFIX": PREFIX,
        "PREFSTORE_LOG_LEVEL": "warning",
        "BENCH_BODY_BYTES": str(body_bytes),
        "PYTHONPATH": os.pathsep.join([str(SCRIPTS), os.environ.get("PYTHONPATH", "")]),
        **env_extra,
    }
    process = subprocess.Popen(server_command(server, port), env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1),
            ):
                break
            if process.poll() is not None:
                raise RuntimeError(f"{server} exited with {process.returncode}")
            time.sleep(0.1)
        else:
            raise RuntimeError(f"{server} did not start")
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gc_snapshot(port: int, key: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/bench/gc", headers={"Authorization": f"Bearer {key}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 (http only)
        snapshot: dict[str, Any] = json.load(response)
        return snapshot


# ------------------------------------------------------------------ load generation
WRK_SCRIPT = """
wrk.headers["Authorization"] = "Bearer %(key)s"
local kind, n = "%(kind)s", %(customers)d
local counter = 0
function setup(thread) counter = counter + 1; thread:set("seed", counter) end
function init(args) math.randomseed(os.time() * 1000 + seed) end
function request()
  local i = math.random(0, n - 1)
  local path = "/v1/bench/bare"
  if kind == "id" then path = string.format("/v1/customers/c%%06d", i)
  elseif kind == "phone" then path = "/v1/lookup?phone=%%2B1212" .. (2000000 + i) end
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  io.write(string.format('WRK {"requests": %%d, "us": %%d, "p50_us": %%d, "p99_us": %%d, ' ..
    '"errors": %%d}\\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), summary.errors.status + summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Load:
    port: int
    key: str
    customers: int
    connections: int
    duration: float
    loadgen: str
    workdir: Path

    def run(self, kind: str, duration: float | None = None) -> dict[str, float]:
        seconds = duration or self.duration
        if self.loadgen == "wrk":
            return self._wrk(kind, seconds)
        return self._python(kind, seconds)

    def _wrk(self, kind: str, seconds: float) -> dict[str, float]:
        script = self.workdir / f"wrk_{kind}.lua"
        script.write_text(WRK_SCRIPT % {"key": self.key, "kind": kind, "customers": self.customers})
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{self.connections}",
                f"-d{seconds:g}s",
                "--timeout",
                "5s",
                "-s",
                str(script),
                f"http://127.0.0.1:{self.port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(row for row in out.splitlines() if row.startswith("WRK "))
        raw = json.loads(line[4:])
        return {
            "rps": raw["requests"] / (raw["us"] / 1e6),
            "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000,
            "errors": raw["errors"],
        }

    def _python(self, kind: str, seconds: float) -> dict[str, float]:
        out = subprocess.run(
            [
                sys.executable,
                str(SCRIPTS / "bench_loadgen.py"),
                "--port",
                str(self.port),
                "--key",
                self.key,
                "--kind",
                kind,
                "--customers",
                str(self.customers),
                "--connections",
                str(self.connections),
                "--duration",
                f"{seconds:g}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        raw = json.loads(out.strip().splitlines()[-1])
        return {k: raw[k] for k in ("rps", "p50_ms", "p99_ms", "errors")}


# ------------------------------------------------------------------ the measurement
@dataclass
class Series:
    rounds: list[dict[str, dict[str, float]]] = field(default_factory=list)

    def median(self, phase: str, metric: str) -> float:
        return statistics.median(r[phase][metric] for r in self.rounds)

    def ratio(self, phase: str) -> float:
        """Median over rounds of the per-round req/s ratio phase/bare."""
        return statistics.median(r[phase]["rps"] / r["bare"]["rps"] for r in self.rounds)


def measure(load: Load, runs: int, warmup: float) -> Series:
    for kind in PHASES:  # warm every path (imports, caches, JIT-less but lazy structures)
        load.run(kind, warmup)
    series = Series()
    for n in range(runs):
        row: dict[str, dict[str, float]] = {}
        for kind in PHASES:
            before = gc_snapshot(load.port, load.key)
            result = load.run(kind)
            after = gc_snapshot(load.port, load.key)
            result["gen2"] = after["count"][2] - before["count"][2]
            result["gen2_ms"] = after["ms"][2] - before["ms"][2]
            result["gc_ms"] = sum(after["ms"]) - sum(before["ms"])
            result["gc_worst_ms"] = max(after["worst_ms"])
            row[kind] = result
            log(
                f"run {n + 1}/{runs} {kind:5s} {result['rps']:8.0f} req/s  "
                f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                f"gen2 {result['gen2']:.0f} ({result['gen2_ms']:.0f} ms)  "
                f"gc {result['gc_ms']:.0f} ms  errors {result['errors']:.0f}"
            )
        series.rounds.append(row)
    return series


def report(server: str, series: Series, args: argparse.Namespace, loadgen: str) -> str:
    lines = [
        f"### {server} — {len(series.rounds)} interleaved runs x {args.duration:g} s, "
        f"{args.connections} connections, {loadgen}, {args.customers} customers",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | ratio to bare | gen-2 GCs/phase | GC ms/phase |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    names = {"bare": "(a) bare", "id": "(b) by id", "phone": "(c) by phone"}
    for kind in PHASES:
        ratio = "1" if kind == "bare" else f"{series.ratio(kind):.2f}"
        lines.append(
            f"| {names[kind]} | {series.median(kind, 'rps'):.0f} | "
            f"{series.median(kind, 'p50_ms'):.2f} | {series.median(kind, 'p99_ms'):.2f} | "
            f"{ratio} | {series.median(kind, 'gen2'):.0f} | {series.median(kind, 'gc_ms'):.0f} |"
        )
    verdicts = []
    for kind, target in TARGETS.items():
        got = series.ratio(kind)
        verdicts.append(
            f"{kind}/bare {got:.2f} (target ≥ {target}: {'met' if got >= target else 'MISSED'})"
        )
    worst_p99 = max(series.median(kind, "p99_ms") for kind in ("id", "phone"))
    verdicts.append(
        f"p99 {worst_p99:.2f} ms (target ≤ {P99_TARGET_MS:g}: "
        f"{'met' if worst_p99 <= P99_TARGET_MS else 'MISSED'})"
    )
    lines += ["", "; ".join(verdicts), ""]
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (≥ 3)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per phase (≤ 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per path, untimed")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--server", choices=["uvicorn", "granian", "both"], default="uvicorn")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--redis-url", help="use this Redis (keys under 'bench:') instead of a fresh one"
    )
    parser.add_argument("--json", type=Path, help="also write every round's figures here")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for the server process (experiments), repeatable",
    )  # fmt: skip
    args = parser.parse_args()
    if args.runs < 3 or not 0 < args.duration <= 10:
        parser.error("need --runs ≥ 3 and 0 < --duration ≤ 10")
    return args


def main() -> None:
    args = parse_args()
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
    extra = dict(item.split("=", 1) for item in args.server_env)
    log(
        f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}"
    )
    servers = ["uvicorn", "granian"] if args.server == "both" else [args.server]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp:
        workdir = Path(tmp)
        with contextlib.ExitStack() as stack:
            url = args.redis_url or stack.enter_context(fresh_redis(workdir))
            key, body_bytes = asyncio.run(seed(url, args.customers))
            log(f"card body: {body_bytes} bytes; load generator: {loadgen}")
            for server in servers:
                with serving(server, url, body_bytes, extra) as port:
                    load = Load(port, key, args.customers, args.connections, args.duration,
                                loadgen, workdir)  # fmt: skip
                    series = measure(load, args.runs, args.warmup)
                print(report(server, series, args, loadgen), flush=True)
                results[server] = series.rounds
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
