"""Recall and cart check over a record at every limit (issue 11, found 3): target < 10 ms.

    .venv/bin/python scripts/bench_limits.py [--runs 5] [--repeat 200]

Builds one record filled to every limit of `customers/rules/` (allergies, likes and
dislikes, notes at their total character budget, the 500 item counters) with realistic
words, then times, in this process, what a request does after its Redis read: decoding the
stored record and running recall (a query of `MAX_QUERY_WORDS` words, half of them typos, and
a one-word query) or the cart check (`MAX_CART_ITEMS` items). Prints the median and p99 of
each over `--repeat` calls, for each of `--runs` runs, and the median of the runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

import msgspec

from prefstore.customers import rules
from prefstore.models.records import Allergy, CustomerRecord, History, Note, Preference
from prefstore.search.allergens import load_table
from prefstore.search.cartcheck import check_cart
from prefstore.search.recall import recall

WORDS = (  # noqa: SIM905 (a sentence of words reads better than a list literal)
    "oat milk latte flat white espresso chai matcha scone croissant almond walnut peanut "
    "sesame shellfish shrimp salmon tuna window seat quiet corner birthday anniversary "
    "gluten dairy lactose vegan halal kosher spicy mild sparkling still lemon ginger mint "
    "cheddar brie parmesan tiramisu brownie cookie muffin bagel avocado toast granola"
).split()


def full_record(seed: int = 7) -> CustomerRecord:
    rnd = random.Random(seed)
    now = datetime.now(UTC)

    def phrase(n: int) -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(n))

    note_chars = rules.MAX_NOTE_CHARS // rules.MAX_NOTES
    notes = []
    for i in range(rules.MAX_NOTES):
        text = phrase(note_chars // 6)[:note_chars]
        notes.append(Note(id=f"n{i}", text=text, author="desk", at=now))
    return CustomerRecord(
        id="full",
        name="Full Record",
        allergies=[
            Allergy(id=f"a{i}", label=f"{phrase(2)} {i}", severity="allergy", note=phrase(8))
            for i in range(rules.MAX_ALLERGIES)
        ],
        preferences=[
            Preference(id=f"p{i}", label=f"{phrase(2)} {i}", note=phrase(6))
            for i in range(rules.MAX_PREFERENCES)
        ],
        notes=notes,
        history=History(item_counts={f"{phrase(2)} {i}": i + 1 for i in range(500)}),
        version=1,
    )


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.99) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    record = full_record()
    raw = msgspec.msgpack.encode(record)
    table = load_table()
    decoder = msgspec.msgpack.Decoder(CustomerRecord)
    long_query = "oat milke latte flatt whit chai scone almnd"
    assert len(long_query.split()) == rules.MAX_QUERY_WORDS
    cart = [
        f"{random.Random(i).choice(WORDS)} {WORDS[i % len(WORDS)]}"
        for i in range(rules.MAX_CART_ITEMS)
    ]
    assert len(cart) == rules.MAX_CART_ITEMS
    cases: dict[str, Callable[[], object]] = {
        f"recall, {rules.MAX_QUERY_WORDS} words": lambda: recall(
            decoder.decode(raw), long_query, "staff"
        ),
        "recall, 1 word": lambda: recall(decoder.decode(raw), "chai", "staff"),
        f"cart check, {rules.MAX_CART_ITEMS} items": lambda: check_cart(
            table, decoder.decode(raw), cart
        ),
    }
    print(
        f"record: {len(raw):,} bytes msgpack; limits {rules.MAX_ALLERGIES} allergies, "
        f"{rules.MAX_PREFERENCES} preferences, {rules.MAX_NOTES} notes / "
        f"{rules.MAX_NOTE_CHARS:,} chars, 500 item counters"
    )
    print("| case | median ms (runs) | p99 ms (runs) | median of runs: median / p99 |")
    print("|---|---|---|---|")
    for name, work in cases.items():
        work()  # warm caches (folding is memoised, as in a serving process)
        runs = [timed(work, args.repeat) for _ in range(args.runs)]
        medians = [f"{m:.2f}" for m, _ in runs]
        p99s = [f"{p:.2f}" for _, p in runs]
        mid = statistics.median(m for m, _ in runs)
        tail = statistics.median(p for _, p in runs)
        print(f"| {name} | {' '.join(medians)} | {' '.join(p99s)} | {mid:.2f} / {tail:.2f} |")


if __name__ == "__main__":
    main()
