"""Quality of search and cart check on the labelled evaluation set.

Search: recall@1, recall@5 and p50 / p99 latency per query kind and overall, for prefstore's
`SearchIndex` (its public facade) and for tantivy configured as issue 14 describes
(`scripts/bench_search.py`), side by side in one process, each query through both engines in
turn; with each engine's memory per customer (prefstore: `tracemalloc` of a second build;
tantivy: index files + `tracemalloc` of its id list; both also the RSS delta of the build).
Cart check: recall / precision of allergy and diet alerts.

    python scripts/eval_search.py --customers 20000 --queries 3400 --carts 2000
    python scripts/eval_search.py --extended --seed 7 --customers 100000 --queries 2300 --by-note
    python scripts/eval_search.py --set eval_set.json      # a set written by gen_eval_set.py
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefstore.models.records import CustomerRecord
from prefstore.search.allergens import AllergenTable, load_table
from prefstore.search.cartcheck import check_cart
from prefstore.search.index import SearchIndex
from scripts.bench_search import (
    SearchReport,
    evaluate,
    load_index,
    measure_engines,
    print_side_by_side,
    ranking,
)
from scripts.gen_eval_set import SEED, EvalCart, EvalQuery, EvalSet, make_eval_set


def build_index(customers: list[CustomerRecord]) -> SearchIndex:
    return load_index(customers)


def evaluate_search(index: SearchIndex, queries: list[EvalQuery]) -> SearchReport:
    return evaluate({"prefstore": ranking(index)}, queries)["prefstore"]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, help="an eval set JSON (else generated)")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=3_400)
    parser.add_argument("--carts", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--extended", action="store_true", help="many locales and scripts")
    parser.add_argument(
        "--engines", nargs="+", choices=["prefstore", "tantivy"], default=["prefstore", "tantivy"]
    )
    parser.add_argument(
        "--tantivy-prefix-all",
        action="store_true",
        help="also tantivy with prefix matching on every word (type-ahead), same index",
    )
    parser.add_argument("--by-note", action="store_true", help="script classes per locale")
    parser.add_argument("--show-misses", type=int, default=0, help="per engine")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.set:
        data = msgspec.json.decode(args.set.read_bytes(), type=EvalSet)
    else:
        data = make_eval_set(
            args.customers, args.queries, args.carts, args.seed, extended=args.extended
        )
    print(
        f"{len(data.customers):,} customers, {len(data.queries)} queries, {len(data.carts)} "
        f"carts; seed {data.seed}; {time.perf_counter() - started:.0f} s to generate"
    )
    reports, _ = measure_engines(
        data.customers, data.queries, args.engines, args.tantivy_prefix_all
    )
    print_side_by_side(reports, args.by_note)
    for engine, report in reports.items():
        for q, top in report.misses[: args.show_misses]:
            print(f"  {engine} miss [{q.kind} {q.note}] {q.text!r} → {q.relevant[:3]} got {top}")
    carts = evaluate_carts(load_table(), {c.id: c for c in data.customers}, data.carts)
    print(
        f"allergy/diet alerts: recall {carts.recall:.3f} ({carts.alerted_right}/{carts.must_alert})"
        f", precision {carts.precision:.3f} ({carts.alerted_right}/{carts.alerted})"
    )
    for customer, item, labels in carts.missed[:20]:
        print(f"  missed alert: {item!r} for {customer} {labels}")


if __name__ == "__main__":
    main()
