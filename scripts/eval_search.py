"""Quality of search and cart check on the labelled evaluation set.

Reports recall@1, recall@5 and MRR (over the top 10) for search, overall and per query kind,
and recall / precision of allergy and diet alerts for cart check.

    python scripts/eval_search.py --customers 20000 --queries 3400 --carts 2000
    python scripts/eval_search.py --set eval_set.json      # a set written by gen_eval_set.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefstore.models.records import CustomerRecord
from prefstore.search.allergens import AllergenTable, load_table
from prefstore.search.cartcheck import check_cart
from prefstore.search.index import SearchIndex
from scripts.gen_eval_set import SEED, EvalCart, EvalQuery, EvalSet, make_eval_set

TOP = 10


@dataclass
class Quality:
    queries: int = 0
    at1: int = 0
    at5: int = 0
    reciprocal: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def recall_at_1(self) -> float:
        return self.at1 / self.queries if self.queries else 0.0

    @property
    def recall_at_5(self) -> float:
        return self.at5 / self.queries if self.queries else 0.0

    @property
    def mrr(self) -> float:
        return self.reciprocal / self.queries if self.queries else 0.0


@dataclass
class SearchReport:
    overall: Quality
    by_kind: dict[str, Quality]
    misses: list[tuple[EvalQuery, list[str]]]


def build_index(customers: list[CustomerRecord]) -> SearchIndex:
    index = SearchIndex()
    for record in customers:
        index.upsert(record)
    return index


def rank_of(hits: list[str], relevant: set[str]) -> int | None:
    return next((i for i, h in enumerate(hits, 1) if h in relevant), None)


def evaluate_search(index: SearchIndex, queries: list[EvalQuery]) -> SearchReport:
    overall = Quality()
    by_kind: dict[str, Quality] = defaultdict(Quality)
    misses = []
    for q in queries:
        started = time.perf_counter()
        hits = [h.id for h in index.search(q.text, TOP, "staff")]
        elapsed = (time.perf_counter() - started) * 1000
        rank = rank_of(hits, set(q.relevant))
        for bucket in (overall, by_kind[q.kind]):
            bucket.queries += 1
            bucket.at1 += rank == 1
            bucket.at5 += rank is not None and rank <= 5
            bucket.reciprocal += 1 / rank if rank else 0.0
            bucket.latencies_ms.append(elapsed)
        if rank is None or rank > 5:
            misses.append((q, hits[:5]))
    return SearchReport(overall, dict(by_kind), misses)


@dataclass
class CartReport:
    must_alert: int = 0
    alerted_right: int = 0
    alerted: int = 0
    missed: list[tuple[str, str, list[str]]] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.alerted_right / self.must_alert if self.must_alert else 1.0

    @property
    def precision(self) -> float:
        return self.alerted_right / self.alerted if self.alerted else 1.0


def evaluate_carts(
    table: AllergenTable, customers: dict[str, CustomerRecord], carts: list[EvalCart]
) -> CartReport:
    """An item counts as alerted when any allergy or dietary alert names it."""
    report = CartReport()
    for cart in carts:
        record = customers[cart.customer]
        result = check_cart(table, record, cart.items)
        alerted = {a.item for a in result.alerts if a.kind in ("allergy", "dietary")}
        must = set(cart.must_alert)
        report.must_alert += len(must)
        report.alerted += len(alerted)
        report.alerted_right += len(alerted & must)
        for item in sorted(must - alerted):
            report.missed.append((cart.customer, item, [a.label for a in record.allergies]))
    return report


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def print_search(report: SearchReport) -> None:
    print(f"{'kind':<20}{'n':>6}{'R@1':>8}{'R@5':>8}{'MRR':>8}{'p50 ms':>9}{'p99 ms':>9}")
    rows = [*sorted(report.by_kind.items()), ("ALL", report.overall)]
    for kind, q in rows:
        print(
            f"{kind:<20}{q.queries:>6}{q.recall_at_1:>8.3f}{q.recall_at_5:>8.3f}{q.mrr:>8.3f}"
            f"{statistics.median(q.latencies_ms):>9.2f}{percentile(q.latencies_ms, 0.99):>9.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, help="an eval set JSON (else generated)")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=3_400)
    parser.add_argument("--carts", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--show-misses", type=int, default=0)
    args = parser.parse_args()
    if args.set:
        data = msgspec.json.decode(args.set.read_bytes(), type=EvalSet)
    else:
        data = make_eval_set(args.customers, args.queries, args.carts, args.seed)
    started = time.perf_counter()
    index = build_index(data.customers)
    print(
        f"{len(data.customers)} customers indexed in {time.perf_counter() - started:.1f} s; "
        f"{len(data.queries)} queries; {len(data.carts)} carts; seed {data.seed}"
    )
    report = evaluate_search(index, data.queries)
    print_search(report)
    for q, top in report.misses[: args.show_misses]:
        print(f"  miss [{q.kind}] {q.text!r} → {q.relevant[:3]} got {top}")
    carts = evaluate_carts(load_table(), {c.id: c for c in data.customers}, data.carts)
    print(
        f"allergy/diet alerts: recall {carts.recall:.3f} ({carts.alerted_right}/{carts.must_alert})"
        f", precision {carts.precision:.3f} ({carts.alerted_right}/{carts.alerted})"
    )
    for customer, item, labels in carts.missed[:20]:
        print(f"  missed alert: {item!r} for {customer} {labels}")


if __name__ == "__main__":
    main()
