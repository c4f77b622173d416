"""Cart check: allergen groups, diets, normalisation, dislikes and delights."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefstore.models.fields import Severity
from prefstore.models.records import Allergy, CustomerRecord, Preference
from prefstore.models.results import CartCheck
from prefstore.search.allergens import AllergenTable, load_table
from prefstore.search.cartcheck import check_cart
from prefstore.search.text import Phrase, Prepared, compact, find_phrase, fold, singular


@pytest.fixture(scope="module")
def table() -> AllergenTable:
    return load_table()


def customer(
    *allergies: tuple[str, Severity], likes: tuple[str, ...] = (), dislikes: tuple[str, ...] = ()
) -> CustomerRecord:
    return CustomerRecord(
        id="c1",
        allergies=[
            Allergy(id=f"a{i}", label=label, severity=s) for i, (label, s) in enumerate(allergies)
        ],
        preferences=[Preference(id=f"l{i}", label=p) for i, p in enumerate(likes)]
        + [Preference(id=f"d{i}", label=p, sentiment="dislikes") for i, p in enumerate(dislikes)],
    )


def alerted(result: CartCheck) -> set[str]:
    return {a.item for a in result.alerts if a.kind != "dislike"}


@pytest.mark.parametrize(
    ("label", "item", "group"),
    [
        ("Tree nuts", "Almond croissant", "tree nuts"),
        ("tree nut allergy", "Pistachio gelato", "tree nuts"),
        ("Dairy", "Cheddar toastie", "milk (dairy)"),
        ("Lactose intolerance", "Greek yoghurt", "milk (dairy)"),
        ("Gluten", "Wheat bread", "gluten (cereals)"),
        ("Coeliac", "Sourdough loaf", "gluten (cereals)"),
        ("Shellfish", "King prawns", "crustaceans (shellfish)"),
        ("Shellfish", "Moules marinières", "molluscs (shellfish)"),
        ("Eggs", "Mayonnaise", "eggs"),
        ("Fish", "Caesar salad", "fish"),
        ("Sesame", "Hummus", "sesame"),
        ("Soya", "Tofu curry", "soy"),
        ("Peanuts", "Chicken satay", "peanuts"),
        ("Nut allergy", "Peanut butter cookie", "peanuts"),
        ("Mustard", "Dijon dressing", "mustard"),
        ("Celery", "Celeriac remoulade", "celery"),
        ("Sulphites", "Glass of red wine", "sulphites"),
        ("Lupin", "Lupin flour pancakes", "lupin"),
    ],
)
def test_allergen_groups_alert(table: AllergenTable, label: str, item: str, group: str) -> None:
    result = check_cart(table, customer((label, "allergy")), [item, "Sparkling water"])
    assert [a.item for a in result.alerts] == [item]
    assert result.alerts[0].group == group and result.alerts[0].kind == "allergy"


@pytest.mark.parametrize(
    "item",
    [
        "ALMOND CROISSANT",
        "almond-croissant",
        "Almonds, toasted",
        "almondcroissant",
        "Almnd croissant",
    ],
)
def test_matching_is_normalised(table: AllergenTable, item: str) -> None:
    """Case, punctuation, plurals, compound spacing and a typo do not hide an allergen."""
    result = check_cart(table, customer(("Almonds", "severe")), [item])
    assert alerted(result) == {item}


def test_a_member_allergy_alerts_on_its_group_too(table: AllergenTable) -> None:
    result = check_cart(
        table, customer(("Walnuts", "allergy")), ["Walnut cake", "Pecan pie", "Apple"]
    )
    assert [a.item for a in result.alerts] == ["Walnut cake", "Pecan pie"]
    assert result.alerts[0].score > result.alerts[1].score  # the direct hit ranks first
    assert "same group" in result.alerts[1].why


def test_plant_milk_is_not_dairy_but_a_latte_is(table: AllergenTable) -> None:
    result = check_cart(
        table,
        customer(("Dairy", "allergy")),
        ["Oat milk latte", "Oatmilk latte", "Latte", "Almond milk", "Peanut butter"],
    )
    assert alerted(result) == {"Latte"}


def test_diets(table: AllergenTable) -> None:
    vegan = check_cart(
        table,
        customer(("Vegan", "dietary")),
        ["Beef burger", "Veggie burger", "Greek yoghurt", "Honey toast", "Fries"],
    )
    assert alerted(vegan) == {"Beef burger", "Greek yoghurt", "Honey toast"}
    assert all(a.kind == "dietary" for a in vegan.alerts)
    halal = check_cart(
        table, customer(("Halal", "dietary")), ["Bacon roll", "Roast chicken", "Prosecco"]
    )
    assert alerted(halal) == {"Bacon roll", "Prosecco"}


def test_order_allergies_then_diets_then_dislikes_and_delights(table: AllergenTable) -> None:
    record = customer(
        ("Vegetarian", "dietary"),
        ("Lactose intolerance", "intolerance"),
        ("Peanuts", "severe"),
        likes=("Oat milk", "chai latte"),
        dislikes=("olives",),
    )
    result = check_cart(
        table,
        record,
        ["Olive tapenade", "Ham sandwich", "Cheese scone", "Satay skewers", "Oatmilk chai latte"],
    )
    kinds = [(a.kind, a.severity, a.item) for a in result.alerts]
    assert kinds == [
        ("allergy", "severe", "Satay skewers"),
        ("allergy", "intolerance", "Cheese scone"),
        ("dietary", "dietary", "Ham sandwich"),
        ("dislike", None, "Olive tapenade"),
    ]
    assert {(d.item, d.label) for d in result.delights} == {
        ("Oatmilk chai latte", "Oat milk"),
        ("Oatmilk chai latte", "chai latte"),
    }
    assert all(a.why for a in result.alerts)


def test_an_unknown_allergen_still_matches_itself(table: AllergenTable) -> None:
    result = check_cart(table, customer(("Strawberries", "allergy")), ["Strawberry tart", "Kiwi"])
    assert [a.item for a in result.alerts] == ["Strawberry tart"]
    assert result.alerts[0].group is None


def test_a_business_file_extends_the_table(tmp_path: Path) -> None:
    extra = tmp_path / "ours.toml"
    extra.write_text(
        '[groups.tree_nuts]\nwords = ["house granola"]\n'
        '[groups.nightshade]\nname = "nightshades"\naliases = ["nightshade"]\n'
        'words = ["tomato", "aubergine", "paprika"]\n'
    )
    table = load_table(extra)
    nuts = check_cart(table, customer(("Tree nuts", "allergy")), ["House granola"])
    assert alerted(nuts) == {"House granola"}
    shades = check_cart(table, customer(("Nightshade", "allergy")), ["Tomato soup", "Rice"])
    assert [(a.item, a.group) for a in shades.alerts] == [("Tomato soup", "nightshades")]
    bad = tmp_path / "bad.toml"
    bad.write_text('[groups.x]\nwordz = ["a"]\n')
    with pytest.raises(ValueError, match=r"bad\.toml"):
        load_table(bad)


def test_normalisation_helpers() -> None:
    assert fold("Crème Brûlée!") == "creme brulee"
    assert fold("Straße") == "strasse"
    assert [singular(w) for w in ["berries", "almonds", "tomatoes", "peaches", "hummus", "glass"]] == [
        "berry", "almond", "tomato", "peach", "hummus", "glass",
    ]  # fmt: skip
    assert compact("Oat-Milk") == compact("oatmilk") == compact("OAT MILKS")
    found = find_phrase(Prepared("oatmilk latte"), Phrase("oat milk"))
    assert found is not None and found.score == 100
    assert find_phrase(Prepared("kale salad"), Phrase("ale")) is None  # short: whole words only
    compound = find_phrase(Prepared("peanutbutter"), Phrase("peanut"))
    assert compound is not None and compound.how == "compound"
