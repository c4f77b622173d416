"""Cart-check precision and recall on a labelled menu (issue 14).

Every item of `scripts/data/menu_labelled.tsv` (labelled from culinary knowledge, not from
`allergens.toml`) is checked against fourteen customers, each with one of the EU-14 allergies
("Peanuts", "Milk", …). An (item, allergen) pair is positive when the label says the item
contains the allergen or may (`?key`: a careful server asks); an allergy alert on it is a true
alert, an alert on a negative pair a false alarm. Reported per allergen, per class (plain,
compound, negated, look-alike, non-Latin, multilingual) and overall, with the misses and the
false alarms listed.

    python scripts/eval_cartcheck.py
    python scripts/eval_cartcheck.py --menu other.tsv --allergens ours.toml --show 50
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prefstore.models.records import Allergy, CustomerRecord
from prefstore.models.results import CartAlert
from prefstore.search.allergens import load_table
from prefstore.search.cartcheck import check_cart

MENU = Path(__file__).resolve().parent / "data" / "menu_labelled.tsv"
LABELS = {
    "gluten": "Gluten",
    "crustaceans": "Crustaceans",
    "eggs": "Eggs",
    "fish": "Fish",
    "lupin": "Lupin",
    "dairy": "Milk",
    "molluscs": "Molluscs",
    "mustard": "Mustard",
    "tree_nuts": "Tree nuts",
    "peanuts": "Peanuts",
    "sesame": "Sesame",
    "soy": "Soy",
    "sulphites": "Sulphites",
    "celery": "Celery",
}
"""Allergen key of the menu → the allergy label a customer record carries."""
CLASSES = ("plain", "compound", "negated", "lookalike", "nonlatin", "multilingual")


@dataclass(frozen=True)
class MenuItem:
    kind: str
    text: str
    contains: frozenset[str]
    maybe: frozenset[str]
    """Allergens that depend on the recipe (`?key`): the guest must be asked, so they count
    as positives."""


def read_menu(path: Path) -> list[MenuItem]:
    items: list[MenuItem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, text, labels, *_note = line.split("\t")
        keys = [k.strip() for k in labels.split(",") if k.strip() not in ("", "-")]
        unknown = {k.lstrip("?") for k in keys} - LABELS.keys()
        if kind not in CLASSES or unknown:
            raise SystemExit(f"{path}:{number}: bad class {kind!r} or allergens {unknown}")
        items.append(
            MenuItem(
                kind=kind,
                text=text,
                contains=frozenset(k for k in keys if not k.startswith("?")),
                maybe=frozenset(k[1:] for k in keys if k.startswith("?")),
            )
        )
    texts = [i.text for i in items]
    if len(set(texts)) != len(texts):
        raise SystemExit(f"{path}: an item is listed twice")
    return items


@dataclass
class Tally:
    true: int = 0
    false: int = 0
    missed: int = 0
    asked: int = 0
    """Alerts that say "check with the guest"."""
    sure_false: int = 0
    """False alarms that do not ask: the ones that teach staff to ignore alarms."""

    @property
    def recall(self) -> float:
        return self.true / (self.true + self.missed) if self.true + self.missed else 1.0

    @property
    def precision(self) -> float:
        return self.true / (self.true + self.false) if self.true + self.false else 1.0


@dataclass
class Report:
    by_allergen: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_class: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    overall: Tally = field(default_factory=Tally)
    misses: list[tuple[str, str, str]] = field(default_factory=list)
    false_alarms: list[tuple[str, str, str]] = field(default_factory=list)


def _asks(alert: CartAlert) -> bool:
    return bool(getattr(alert, "check_with_guest", False))


def evaluate(menu: list[MenuItem], allergens: Path | None = None) -> Report:
    table = load_table(allergens)
    report = Report()
    texts = [item.text for item in menu]
    for key, label in LABELS.items():
        record = CustomerRecord(id=key, allergies=[Allergy(id="a", label=label)])
        alerts = {a.item: a for a in check_cart(table, record, texts).alerts if a.kind == "allergy"}
        for item in menu:
            positive = key in item.contains or key in item.maybe
            alert = alerts.get(item.text)
            for tally in (report.by_allergen[key], report.by_class[item.kind], report.overall):
                if alert is not None and positive:
                    tally.true += 1
                elif alert is not None:
                    tally.false += 1
                elif positive:
                    tally.missed += 1
                if alert is not None and _asks(alert):
                    tally.asked += 1
                elif alert is not None and not positive:
                    tally.sure_false += 1
            if alert is not None and not positive:
                report.false_alarms.append((item.text, key, alert.why))
            elif alert is None and positive:
                mark = "?" if key in item.maybe else ""
                report.misses.append((item.text, mark + key, item.kind))
    return report


def _row(name: str, tally: Tally) -> str:
    return (
        f"| {name} | {tally.true + tally.missed} | {tally.recall:.3f} | {tally.precision:.3f} "
        f"| {tally.true} | {tally.false} | {tally.missed} | {tally.asked} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--menu", type=Path, default=MENU)
    parser.add_argument("--allergens", type=Path, default=None, help="an extra allergen file")
    parser.add_argument("--show", type=int, default=30, help="misses and false alarms to list")
    args = parser.parse_args()
    menu = read_menu(args.menu)
    report = evaluate(menu, args.allergens)
    maybe = sum(len(i.maybe) for i in menu)
    print(
        f"{len(menu)} items x {len(LABELS)} allergies; positives "
        f"{report.overall.true + report.overall.missed} (of which {maybe} '?' pairs); "
        f"false alarms that do not ask the guest: {report.overall.sure_false}\n"
    )
    header = "| {} | positives | recall | precision | true | false | missed | ask guest |"
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|"
    print(header.format("class"), rule, sep="\n")
    for kind in CLASSES:
        print(_row(kind, report.by_class[kind]))
    print(_row("**all**", report.overall), "", header.format("allergen"), rule, sep="\n")
    for key in LABELS:
        print(_row(key, report.by_allergen[key]))
    print(f"\nmissed ({len(report.misses)}):")
    for text, key, kind in report.misses[: args.show]:
        print(f"  {key:<12} {text}  [{kind}]")
    print(f"\nfalse alarms ({len(report.false_alarms)}):")
    for text, key, why in report.false_alarms[: args.show]:
        print(f"  {key:<12} {text}  — {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
