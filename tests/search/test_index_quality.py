"""Quality floors on a small evaluation set (scripts/gen_eval_set.py, fixed seed), so that a
change that makes search or cart check worse fails here. Full figures: docs/BENCHMARKS.md."""

from __future__ import annotations

import pytest

from prefstore.search.allergens import load_table
from scripts.eval_search import build_index, evaluate_carts, evaluate_search
from scripts.gen_eval_set import QUERY_KINDS, EvalSet, make_eval_set


@pytest.fixture(scope="module")
def eval_set() -> EvalSet:
    return make_eval_set(customers=400, queries=len(QUERY_KINDS) * 20, carts=400)


def test_search_quality_floors(eval_set: EvalSet) -> None:
    report = evaluate_search(build_index(eval_set.customers), eval_set.queries)
    assert report.overall.recall_at_5 >= 0.98, report.misses
    assert report.overall.recall_at_1 >= 0.93, report.misses
    assert report.overall.mrr >= 0.95
    for kind, quality in report.by_kind.items():
        assert quality.recall_at_5 >= 0.9, (kind, report.misses)


def test_allergy_alerts_never_miss(eval_set: EvalSet) -> None:
    report = evaluate_carts(load_table(), {c.id: c for c in eval_set.customers}, eval_set.carts)
    assert report.must_alert > 100  # the set does exercise allergies
    assert report.recall == 1.0, report.missed
    assert report.precision >= 0.8
