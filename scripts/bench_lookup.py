"""Lookup benchmark: `prefstore serve` against two references, in one run.

    apt-get install -y wrk                        # optional; else scripts/bench_loadgen.py
    .venv/bin/python scripts/bench_lookup.py      # 100k customers, 3 rounds x 5 s per phase
    .venv/bin/python scripts/bench_lookup.py --customers 20000 --granian

What it does, in one run:
1. starts a fresh `redis-server` (the one `find_redis_server()` finds) on a free port, or uses
   `--redis-url`; seeds `--customers` customers through `CustomerStore.create` (the real write
   path) and creates a lookup-scoped API key;
2. starts, each in its own process, on the same uvicorn flags (uvloop, httptools, no access
   log): `prefstore serve` exactly as a user starts it (rate limits on, with a quota the run
   never reaches), a second `prefstore serve` with the per-key limit off (its cost), (a) a
   minimal Litestar app returning the same card bytes from a constant, and (b) a raw ASGI
   callable doing the same Redis read (the limit) — also with an ideal near-cache (Zipf);
   two more `prefstore serve`s with the near-cache (PREFSTORE_NEAR_CACHE) on and off (Zipf,
   64 connections and one);
   with `--granian`, the product app under granian too;
3. loads them with wrk (or `scripts/bench_loadgen.py`) at `--connections` connections,
   uniform and Zipf (s = 1.1) access, phases interleaved round by round, and a
   single-connection phase for the sequential latency;
4. prints medians of the rounds (req/s, p50, p99) and ratios to (a) (median of per-round
   ratios) as a markdown table, and the targets' verdicts.
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
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from prefstore.config import Settings
from prefstore.customers.reader import LOOKUP_BY_IDENTIFIER
from prefstore.errors import Conflict
from prefstore.models.inputs import AllergyInput, CustomerCreate, NoteInput, PreferenceInput
from prefstore.redis.connection import as_bytes, connect
from prefstore.redis.embedded import find_redis_server
from prefstore.redis.keyspace import CARD_FIELD_TOUCHPOINT
from prefstore.services import Services

SCRIPTS = Path(__file__).resolve().parent
PREFIX = "bench:"
SEEDED_MARK = f"{PREFIX}meta:seeded"
TARGETS = {"id": 1.2, "phone": 1.0, "email": 1.0}
P99_TARGET_MS = 10.0
SINGLE_P50_TARGET_MS = 0.5
BENCH_LIMIT = 10**9
NEAR_ON = {"PREFSTORE_NEAR_CACHE": "10000"}
NEAR_OFF = {"PREFSTORE_NEAR_CACHE": "0"}
"""The near-cache phases: the same `prefstore serve`, the cache explicitly on or off."""
NEAR_TARGET = 1.3
"""The per-key quota `prefstore serve` runs with here: limiting on, never reached."""


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


async def seed(url: str, customers: int, concurrency: int = 32) -> tuple[str, bytes]:
    """Seed through the real write path; returns (lookup key, one card's body)."""
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
        await client.execute_command(*LOOKUP_BY_IDENTIFIER.load_command)  # type: ignore[no-untyped-call]
        return made.key, as_bytes(sample)
    finally:
        await client.aclose()


# ------------------------------------------------------------------ the servers under test
UVICORN_FLAGS = "--loop uvloop --http httptools --no-access-log --log-level warning"
"""What `prefstore serve` configures (cli.py), applied to the references."""


@dataclass(frozen=True)
class Server:
    name: str
    what: str
    command: list[str]
    env: dict[str, str] = field(default_factory=dict)


def servers(args: argparse.Namespace, port_of: dict[str, int]) -> list[Server]:
    prefstore = Path(sys.executable).with_name("prefstore")
    serve = (
        [str(prefstore), "serve"]
        if prefstore.exists()
        else [sys.executable, "-m", "prefstore.cli", "serve"]
    )

    def uvicorn(target: str, name: str) -> list[str]:
        where = ["--host", "127.0.0.1", "--port", str(port_of[name])]
        return [sys.executable, "-m", "uvicorn", "--factory", *UVICORN_FLAGS.split(),
                "--app-dir", str(SCRIPTS), target, *where]  # fmt: skip

    limited = {"PREFSTORE_RATE_LIMIT_PER_KEY": str(BENCH_LIMIT)}
    unlimited = {"PREFSTORE_RATE_LIMIT_PER_KEY": "0"}
    found = [
        Server("serve", "`prefstore serve`", [*serve, "--port", str(port_of["serve"])], limited),
        Server("unlimited", "`prefstore serve`, per-key limit off",
               [*serve, "--port", str(port_of["unlimited"])], unlimited),
        Server("near on", "`prefstore serve`, near-cache on",
               [*serve, "--port", str(port_of["near on"])], {**limited, **NEAR_ON}),
        Server("near off", "`prefstore serve`, near-cache off",
               [*serve, "--port", str(port_of["near off"])], {**limited, **NEAR_OFF}),
        Server("minimal", "(a) minimal Litestar app", uvicorn("bench_app:minimal", "minimal")),
        Server("raw", "(b) raw ASGI + same Redis read", uvicorn("bench_app:raw", "raw")),
        Server("cache", "(b) + ideal near-cache", uvicorn("bench_app:raw", "cache"),
               {"BENCH_NEAR_CACHE": "1"}),
    ]  # fmt: skip
    if args.granian:
        granian = str(Path(sys.executable).with_name("granian"))
        found.append(Server("granian", "product app under granian", [
            granian, "--interface", "asgi", "--factory", "--loop", "uvloop", "--no-access-log",
            "--log-level", "warning", "--host", "127.0.0.1", "--port", str(port_of["granian"]),
            "prefstore.http.app:app_from_env"], limited))  # fmt: skip
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serving(server: Server, port: int, redis_url: str, extra: dict[str, str]) -> Iterator[int]:
    env = {
        **os.environ,
        "PREFSTORE_REDIS_URL": redis_url,
        "PREFSTORE_KEY_PREFIX": PREFIX,
        "PREFSTORE_LOG_LEVEL": "warning",
        **extra,
        **server.env,
    }
    process = subprocess.Popen(
        server.command, env=env, start_new_session=True, stdout=subprocess.DEVNULL
    )
    probe = "/bare" if server.name == "minimal" else "/readyz"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _answers(f"http://127.0.0.1:{port}{probe}"):
                break
            if process.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {process.returncode}")
            time.sleep(0.2)
        else:
            raise RuntimeError(f"{server.name} did not start")
        yield process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    """Any HTTP answer (the raw reference answers /readyz with 401) means it serves."""
    try:
        with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (http only)
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


# ------------------------------------------------------------------ phases and load
@dataclass(frozen=True)
class Phase:
    name: str
    server: str
    kind: str
    dist: str = "uniform"
    connections: int | None = None
    """None: `--connections`."""


def phases(args: argparse.Namespace) -> list[Phase]:
    found = [
        Phase("minimal", "minimal", "bare"),
        Phase("raw id", "raw", "id"),
        Phase("id", "serve", "id"),
        Phase("phone", "serve", "phone"),
        Phase("email", "serve", "email"),
        Phase("id, limit off", "unlimited", "id"),
        Phase("raw id zipf", "raw", "id", "zipf"),
        Phase("id zipf", "serve", "id", "zipf"),
        Phase("near-cache zipf", "cache", "id", "zipf"),
        Phase("id zipf, near-cache off", "near off", "id", "zipf"),
        Phase("id zipf, near-cache on", "near on", "id", "zipf"),
        Phase("id zipf, 1 conn, near-cache off", "near off", "id", "zipf", connections=1),
        Phase("id zipf, 1 conn, near-cache on", "near on", "id", "zipf", connections=1),
        Phase("id, 1 connection", "serve", "id", connections=1),
    ]
    if args.granian:
        found.insert(3, Phase("granian id", "granian", "id"))
    return found


WRK_SCRIPT = r"""
wrk.headers["Authorization"] = "Bearer @KEY@"
local kind, dist, n, s = "@KIND@", "@DIST@", @CUSTOMERS@, 1.1
local counter = 0
local cdf = {}
function setup(thread) counter = counter + 1; thread:set("seed", counter) end
function init(args)
  math.randomseed(os.time() * 1000 + seed)
  if dist == "zipf" then
    local total = 0
    for r = 1, n do total = total + r ^ (-s); cdf[r] = total end
  end
end
local function pick()
  if dist ~= "zipf" then return math.random(0, n - 1) end
  local u = math.random() * cdf[n]
  local lo, hi = 1, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cdf[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo - 1
end
function request()
  local path = "/bare"
  if kind == "id" then path = string.format("/v1/customers/c%06d", pick())
  elseif kind == "phone" then path = "/v1/lookup?phone=%2B1212" .. (2000000 + pick())
  elseif kind == "email" then path = "/v1/lookup?email=user" .. pick() .. "%40example.com" end
  return wrk.format("GET", path)
end
function done(summary, latency, requests)
  io.write(string.format('WRK {"requests": %d, "us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"errors": %d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), summary.errors.status + summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


@dataclass
class Load:
    ports: dict[str, int]
    pids: dict[str, int]
    key: str
    customers: int
    connections: int
    loadgen: str
    workdir: Path

    def run(self, phase: Phase, seconds: float) -> dict[str, float]:
        port, pid = self.ports[phase.server], self.pids[phase.server]
        connections = phase.connections or self.connections
        cpu = cpu_seconds(pid)
        if self.loadgen == "wrk":
            result = self._wrk(phase, port, connections, seconds)
        else:
            result = self._python(phase, port, connections, seconds)
        spent = cpu_seconds(pid) - cpu
        result["cpu_us"] = spent / max(result["rps"] * seconds, 1) * 1e6
        return result

    def _wrk(self, phase: Phase, port: int, connections: int, seconds: float) -> dict[str, float]:
        script = self.workdir / f"wrk_{phase.kind}_{phase.dist}.lua"
        text = WRK_SCRIPT
        for name, value in (("KEY", self.key), ("KIND", phase.kind), ("DIST", phase.dist),
                            ("CUSTOMERS", str(self.customers))):  # fmt: skip
            text = text.replace(f"@{name}@", value)
        script.write_text(text)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s",
             "-s", str(script), f"http://127.0.0.1:{port}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        line = next(row for row in out.splitlines() if row.startswith("WRK "))
        raw = json.loads(line[4:])
        return {
            "rps": raw["requests"] / (raw["us"] / 1e6),
            "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000,
            "errors": raw["errors"],
        }

    def _python(
        self, phase: Phase, port: int, connections: int, seconds: float
    ) -> dict[str, float]:
        out = subprocess.run(
            [sys.executable, str(SCRIPTS / "bench_loadgen.py"), "--port", str(port),
             "--key", self.key, "--kind", phase.kind, "--dist", phase.dist,
             "--customers", str(self.customers), "--connections", str(connections),
             "--duration", f"{seconds:g}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        raw = json.loads(out.strip().splitlines()[-1])
        return {k: raw[k] for k in ("rps", "p50_ms", "p99_ms", "errors")}


# ------------------------------------------------------------------ the measurement
@dataclass
class Series:
    rounds: list[dict[str, dict[str, float]]] = field(default_factory=list)

    def median(self, phase: str, metric: str) -> float:
        return statistics.median(r[phase][metric] for r in self.rounds)

    def ratio(self, phase: str, to: str = "minimal") -> float:
        """Median over rounds of the per-round req/s ratio phase / `to`."""
        return statistics.median(r[phase]["rps"] / r[to]["rps"] for r in self.rounds)


def measure(load: Load, plan: list[Phase], runs: int, duration: float, warmup: float) -> Series:
    for phase in plan:  # warm every path (imports, caches, lazy structures)
        load.run(phase, warmup)
    series = Series()
    for n in range(runs):
        row: dict[str, dict[str, float]] = {}
        for phase in plan:
            result = row[phase.name] = load.run(phase, duration)
            log(
                f"run {n + 1}/{runs} {phase.name:18s} {result['rps']:8.0f} req/s  "
                f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                f"cpu {result['cpu_us']:5.0f} µs/req  "
                f"errors {result['errors']:.0f}"
            )
        series.rounds.append(row)
    return series


def report(series: Series, plan: list[Phase], what: dict[str, str], args: argparse.Namespace,
           loadgen: str) -> str:  # fmt: skip
    lines = [
        f"### {len(series.rounds)} interleaved rounds x {args.duration:g} s, "
        f"{args.connections} connections, {loadgen}, {args.customers} customers",
        "",
        "| phase | server | access | req/s | p50 ms | p99 ms | ratio to (a) | server CPU µs/req |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for phase in plan:
        access = phase.dist + ("" if phase.connections is None else f", {phase.connections} conn")
        lines.append(
            f"| {phase.name} | {what[phase.server]} | {access} | "
            f"{series.median(phase.name, 'rps'):.0f} | {series.median(phase.name, 'p50_ms'):.2f} | "
            f"{series.median(phase.name, 'p99_ms'):.2f} | {series.ratio(phase.name):.2f} | "
            f"{series.median(phase.name, 'cpu_us'):.0f} |"
        )
    verdicts = []
    for name, target in TARGETS.items():
        got = series.ratio(name)
        verdicts.append(f"{name} {got:.2f}x (a) (target ≥ {target}: {_met(got >= target)})")
    for name in TARGETS:
        p99 = series.median(name, "p99_ms")
        verdicts.append(
            f"{name} p99 {p99:.2f} ms (≤ {P99_TARGET_MS:g}: {_met(p99 <= P99_TARGET_MS)})"
        )
    single = series.median("id, 1 connection", "p50_ms")
    verdicts.append(f"1-connection p50 {single:.3f} ms (≤ {SINGLE_P50_TARGET_MS}: "
                    f"{_met(single <= SINGLE_P50_TARGET_MS)})")  # fmt: skip
    extra = [
        f"rate limit on/off (id): {series.ratio('id', 'id, limit off'):.3f}",
        f"id / raw id: {series.ratio('id', 'raw id'):.2f}",
        f"ideal near-cache / raw (Zipf): {series.ratio('near-cache zipf', 'raw id zipf'):.2f}",
    ]
    near = series.ratio("id zipf, near-cache on", "id zipf, near-cache off")
    verdicts.append(f"near-cache on / off (Zipf, serve) {near:.2f}x (≥ {NEAR_TARGET}: "
                    f"{_met(near >= NEAR_TARGET)})")  # fmt: skip
    near = series.ratio("id zipf, 1 conn, near-cache on", "id zipf, 1 conn, near-cache off")
    verdicts.append(f"near-cache on / off (Zipf, serve, 1 connection) {near:.2f}x")
    if args.granian:
        extra.append(f"granian id / serve id: {series.ratio('granian id', 'id'):.2f}")
    return "\n".join([*lines, "", "; ".join(verdicts), "", "; ".join(extra), ""])


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3, help="interleaved rounds (≥ 3)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per phase (≤ 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds per phase, untimed")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--granian", action="store_true", help="also the app under granian")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument(
        "--redis-url", help="use this Redis (keys under 'bench:') instead of a fresh one"
    )
    parser.add_argument("--json", type=Path, help="also write every round's figures here")
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="NAME=VALUE",
        help="extra environment for every server process (experiments), repeatable",
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
    with tempfile.TemporaryDirectory(prefix="bench-lookup-") as tmp:
        workdir = Path(tmp)
        with contextlib.ExitStack() as stack:
            url = args.redis_url or stack.enter_context(fresh_redis(workdir))
            key, body = asyncio.run(seed(url, args.customers))
            (workdir / "body.json").write_bytes(body)
            extra = {"BENCH_BODY_FILE": str(workdir / "body.json"), "BENCH_KEY": key, **extra}
            log(f"card body: {len(body)} bytes; load generator: {loadgen}")
            ports = {name: free_port() for name in ("serve", "unlimited", "minimal", "raw",
                                                     "cache", "granian", "near on",
                                                     "near off")}  # fmt: skip
            plan_servers = servers(args, ports)
            pids = {
                server.name: stack.enter_context(serving(server, ports[server.name], url, extra))
                for server in plan_servers
            }
            load = Load(ports, pids, key, args.customers, args.connections, loadgen, workdir)
            plan = phases(args)
            series = measure(load, plan, args.runs, args.duration, args.warmup)
    what = {server.name: server.what for server in plan_servers}
    print(report(series, plan, what, args, loadgen), flush=True)
    if args.json:
        args.json.write_text(json.dumps(series.rounds, indent=1))


if __name__ == "__main__":
    main()
