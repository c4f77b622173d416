"""The staff quick-entry page in a browser: the guests and keys its tests start from, and
the steps every one of them takes (open the page, sign in, open a guest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from playwright.async_api import Browser, Page, expect
from redis.asyncio import Redis

from prefstore.customers.apikeys import KeyStore
from prefstore.customers.store import CustomerStore
from prefstore.models.inputs import AllergyInput, CustomerCreate, EventInput, PreferenceInput
from prefstore.redis.keyspace import KeySpace
from tests.support.app_process import Server

JON_PHONE = "+1 415 555 4471"
JOAN_PHONE = "+1 212 555 0188"
STAFF = "Ana at the front desk"


@dataclass
class Seeded:
    write_key: str
    lookup_key: str
    jon_id: str
    joan_id: str


async def seed(redis: Redis, prefix: str) -> Seeded:
    """Guests and keys, written before the app starts (its index is built from Redis): Jon
    Smith (severe shellfish allergy, likes, visits), Joan Smythe (a sesame allergy), Jonas
    Schmidt and Ada Lovelace (no allergies)."""
    keys = KeySpace(prefix)
    keystore = KeyStore(redis, keys)
    store = CustomerStore(redis, keys, region="US")
    desk = await keystore.create(STAFF, ["write"])
    till = await keystore.create("till 3", ["lookup"])
    jon = await store.create(
        CustomerCreate(
            name="Jon Smith",
            phones=[JON_PHONE],
            emails=["jon.smith@example.com"],
            tags=["regular"],
            allergies=[AllergyInput(label="shellfish", severity="severe")],
            preferences=[
                PreferenceInput(label="chai latte", sentiment="likes", category="beverage"),
                PreferenceInput(label="loud music", sentiment="dislikes"),
            ],
        ),
        actor="import",
    )
    jon_id = jon.card.customer_id
    for day, items in [(3, ["chai latte", "popcorn"]), (10, ["chai latte"])]:
        await store.record_event(
            jon_id,
            EventInput(
                type="visit",
                at=datetime(2025, 2, day, 19, 30, tzinfo=UTC),
                location="Screen 4",
                items=items,
            ),
            actor="pos",
        )
    joan = await store.create(
        CustomerCreate(
            name="Joan Smythe",
            phones=[JOAN_PHONE],
            allergies=[AllergyInput(label="sesame", severity="allergy")],
        ),
        actor="import",
    )
    await store.create(
        CustomerCreate(name="Jonas Schmidt", phones=["+1 312 555 0102"]), actor="import"
    )
    await store.create(CustomerCreate(name="Ada Lovelace"), actor="import")
    return Seeded(
        write_key=desk.key,
        lookup_key=till.key,
        jon_id=jon_id,
        joan_id=joan.card.customer_id,
    )


async def open_page(
    browser: Browser, server: Server, errors: list[str], width: int = 1180, height: int = 900
) -> Page:
    """The page in a new browser context; console errors and page errors go to `errors`."""
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.goto(server.url + "/")
    return page


async def sign_in(page: Page, key: str) -> None:
    await expect(page.locator("#key")).to_be_focused()
    await page.keyboard.type(key)
    await page.keyboard.press("Enter")


async def open_guest(page: Page, query: str, name: str) -> None:
    """Search from an empty search box, choose `name` among the results, and wait for its
    card (the entry field then has the focus)."""
    search = page.locator("#q")
    await search.fill("")
    await search.focus()
    await page.keyboard.type(query, delay=10)
    option = page.locator("#results [role=option]", has_text=name).first
    await expect(option).to_be_visible()
    await option.click()
    await expect(page.locator("#card-name")).to_have_text(name)
    await expect(page.locator("#entry")).to_be_focused()
