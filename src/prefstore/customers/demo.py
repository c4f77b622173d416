"""A few demo customers, so a first run has something to look up."""

from __future__ import annotations

from prefstore.customers.store import CustomerStore
from prefstore.errors import Conflict
from prefstore.models.inputs import AllergyInput, CustomerCreate, NoteInput, PreferenceInput

DEMO_CUSTOMERS = [
    CustomerCreate(
        id="demo-ada",
        name="Ada Lovelace",
        emails=["ada@example.com"],
        phones=["+1 415 555 0123"],
        identifiers={"loyalty": "L-1815"},
        tags=["vip"],
        allergies=[AllergyInput(label="Peanuts", severity="severe", note="carries an EpiPen")],
        preferences=[
            PreferenceInput(label="Popcorn", sentiment="likes", category="food"),
            PreferenceInput(label="Pretzels", sentiment="dislikes", category="food"),
            PreferenceInput(label="Oat milk", sentiment="likes", category="beverage"),
            PreferenceInput(label="Window table", sentiment="likes", category="seating"),
        ],
        notes=[NoteInput(text="Celebrating an anniversary in June.")],
    ),
    CustomerCreate(
        id="demo-grace",
        name="Grace Hopper",
        emails=["grace@example.com"],
        phones=["+1 415 555 0199"],
        preferences=[PreferenceInput(label="Chai latte", sentiment="likes", category="beverage")],
        allergies=[AllergyInput(label="Lactose", severity="intolerance")],
    ),
    CustomerCreate(
        id="demo-alan",
        name="Alan Turing",
        emails=["alan@example.org"],
        phones=["+44 20 7946 0958"],
        preferences=[PreferenceInput(label="Quiet room", sentiment="likes", category="room")],
    ),
]


async def seed_demo(store: CustomerStore) -> int:
    """Create the demo customers that are missing; returns how many were created."""
    created = 0
    for customer in DEMO_CUSTOMERS:
        try:
            await store.create(customer, actor="demo")
            created += 1
        except Conflict:
            continue
    return created
