"""Customer search: prefstore's in-process index vs PostgreSQL pg_trgm, side by side.

Same customers, same queries (scripts/gen_eval_set.py, fixed seed), one run:

* ours: `SearchIndex` built in-process directly from the generated records (no HTTP, no
  Redis), `search(q, 10)`;
* pg_trgm: a table with the folded name, email and phone digits, GIN `gin_trgm_ops` indexes
  on name and email, queried the way a user of pg_trgm would: `name % q ORDER BY
  similarity(name, q) DESC LIMIT 10` for names, the same on email for email queries, and
  `phone LIKE '%digits'` (trigram-indexed) for phone digits, combined with the name when a
  query has both. Queries are folded in Python the same way as for ours. Each query is one
  round trip over a local socket with psycopg 3 (prepared statements).

Reports per size: latency p50/p99, recall@1/@5, MRR, index build time and memory.

    python scripts/bench_search_pg.py --sizes 100000 1000000 --queries 1700
"""

from __future__ import annotations

import argparse
import gc
import io
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefstore.models.records import CustomerRecord
from prefstore.search.index import SearchIndex
from prefstore.search.query import parse_query
from prefstore.search.text import digits, fold
from scripts.gen_eval_set import SEED, EvalQuery, make_customers, make_queries

DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
TABLE = "bench_customers"
TOP = 10
STATEMENT_TIMEOUT_MS = 2000


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Result:
    engine: str
    build_s: float
    memory_bytes: int
    latencies_ms: list[float]
    at1: int
    at5: int
    rr: float
    queries: int

    def row(self, customers: int, baseline: Result | None) -> str:
        p50 = statistics.median(self.latencies_ms)
        p99 = percentile(self.latencies_ms, 0.99)
        speed = ""
        if baseline is not None:
            speed = (
                f"{statistics.median(baseline.latencies_ms) / p50:.1f}x / "
                f"{percentile(baseline.latencies_ms, 0.99) / p99:.1f}x"
            )
        return (
            f"| {customers:,} | {self.engine} | {p50:.2f} | {p99:.2f} | "
            f"{self.at1 / self.queries:.3f} | {self.at5 / self.queries:.3f} | "
            f"{self.rr / self.queries:.3f} | {self.build_s:.1f} | "
            f"{self.memory_bytes / 2**20:,.0f} MiB ({self.memory_bytes / customers:,.0f} B) | "
            f"{speed} |"
        )


def measure(
    engine: str,
    search: Callable[[str], list[str]],
    queries: list[EvalQuery],
    build_s: float,
    memory: int,
) -> Result:
    for q in queries[:50]:  # warm caches and lazy imports; not measured
        search(q.text)
    result = Result(engine, build_s, memory, [], 0, 0, 0.0, len(queries))
    for q in queries:
        started = time.perf_counter()
        hits = search(q.text)
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        relevant = set(q.relevant)
        rank = next((i for i, h in enumerate(hits, 1) if h in relevant), None)
        result.at1 += rank == 1
        result.at5 += rank is not None and rank <= 5
        result.rr += 1 / rank if rank else 0.0
    return result


# ---------------------------------------------------------------- ours
def bench_ours(customers: list[CustomerRecord], queries: list[EvalQuery]) -> Result:
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    index = SearchIndex()
    for record in customers:
        index.upsert(record)
    build_s = time.perf_counter() - started
    gc.collect()
    rss_delta = rss_bytes() - before
    breakdown = index.memory_breakdown()
    memory = sum(breakdown.values())
    # The RSS delta undercounts (the allocator reuses what the generator freed): the sum of
    # the structures' own sizes (sys.getsizeof) is the figure reported.
    print(f"  ours: structures {memory / 2**20:,.0f} MiB (RSS delta {rss_delta / 2**20:,.0f} MiB):")
    for part, size in sorted(breakdown.items(), key=lambda kv: -kv[1]):
        print(f"    {part:<22}{size / 2**20:>9,.1f} MiB {size / len(customers):>7,.1f} B/customer")
    return measure("prefstore", lambda q: [h.id for h in index.search(q, TOP, "staff")], queries,
                   build_s, memory)  # fmt: skip


# ---------------------------------------------------------------- pg_trgm
def load_pg(conn: psycopg.Connection, customers: list[CustomerRecord]) -> tuple[float, int]:
    with conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(
            f"CREATE UNLOGGED TABLE {TABLE} (id text PRIMARY KEY, name text NOT NULL, "
            "email text, phone text)"
        )
        buffer = io.StringIO()
        started = time.perf_counter()
        with cur.copy(f"COPY {TABLE} (id, name, email, phone) FROM STDIN") as copy:
            for c in customers:
                copy.write_row(
                    (
                        c.id,
                        fold(c.name),
                        c.emails[0] if c.emails else None,
                        digits(c.phones[0]) if c.phones else None,
                    )
                )
        del buffer
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute(f"CREATE INDEX {TABLE}_name ON {TABLE} USING gin (name gin_trgm_ops)")
        cur.execute(f"CREATE INDEX {TABLE}_email ON {TABLE} USING gin (email gin_trgm_ops)")
        cur.execute(f"CREATE INDEX {TABLE}_phone ON {TABLE} USING gin (phone gin_trgm_ops)")
        cur.execute(f"ANALYZE {TABLE}")
        build_s = time.perf_counter() - started
        cur.execute(
            "SELECT pg_indexes_size(%s::regclass), pg_table_size(%s::regclass)", (TABLE, TABLE)
        )
        row = cur.fetchone()
        assert row is not None
    conn.commit()
    print(f"  pg: indexes {row[0] / 2**20:,.0f} MiB, table {row[1] / 2**20:,.0f} MiB")
    return build_s, int(row[0])


def pg_search(conn: psycopg.Connection) -> Callable[[str], list[str]]:
    # TABLE and TOP are constants of this script; the query text goes in as parameters.
    by_name = (
        f"SELECT id FROM {TABLE} WHERE name %% %s ORDER BY similarity(name, %s) DESC LIMIT {TOP}"  # noqa: S608
    )
    by_email = (
        f"SELECT id FROM {TABLE} WHERE email %% %s ORDER BY similarity(email, %s) DESC LIMIT {TOP}"  # noqa: S608
    )
    by_phone = f"SELECT id FROM {TABLE} WHERE phone LIKE %s ORDER BY id LIMIT {TOP}"  # noqa: S608
    by_name_phone = (
        f"SELECT id FROM {TABLE} WHERE phone LIKE %s ORDER BY similarity(name, %s) DESC LIMIT {TOP}"  # noqa: S608
    )

    def search(text: str) -> list[str]:
        query = parse_query(text)
        name = " ".join(query.words)
        with conn.cursor() as cur:
            try:
                if query.emails:
                    email = text.strip().casefold()
                    cur.execute(by_email, (email, email), prepare=True)
                elif query.numbers and name:
                    cur.execute(by_name_phone, (f"%{query.numbers[0]}", name), prepare=True)
                elif query.numbers:
                    cur.execute(by_phone, (f"%{query.numbers[0]}",), prepare=True)
                else:
                    cur.execute(by_name, (name, name), prepare=True)
                rows = cur.fetchall()
            except psycopg.errors.QueryCanceled:
                conn.rollback()
                return []
        conn.rollback()
        return [r[0] for r in rows]

    return search


def bench_pg(customers: list[CustomerRecord], queries: list[EvalQuery]) -> Result:
    with psycopg.connect(DSN) as conn:
        build_s, memory = load_pg(conn, customers)
        conn.execute(f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}")
        conn.commit()
        result = measure("pg_trgm", pg_search(conn), queries, build_s, memory)
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.commit()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=1700)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        started = time.perf_counter()
        customers = make_customers(size, args.seed)
        queries = make_queries(customers, args.queries, args.seed)
        print(f"{size:,} customers, {len(queries)} queries generated in "
              f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        ours = bench_ours(customers, queries)
        pg = bench_pg(customers, queries)
        rows += [ours.row(size, pg), pg.row(size, None)]
        for r in (ours, pg):
            print(f"  {r.engine}: p50 {statistics.median(r.latencies_ms):.2f} ms, "
                  f"p99 {percentile(r.latencies_ms, 0.99):.2f} ms, "
                  f"R@1 {r.at1 / r.queries:.3f}, R@5 {r.at5 / r.queries:.3f}")  # fmt: skip
        del customers, queries
        gc.collect()
    print()
    print("| customers | engine | p50 ms | p99 ms | R@1 | R@5 | MRR | build s | memory "
          "(per customer) | faster than pg_trgm (p50 / p99) |")  # fmt: skip
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
