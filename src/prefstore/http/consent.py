"""Route for contact consent: what a customer said about being contacted, per channel.

Consent is a contact preference, apart from service preferences; the card shows it to keys
that see contacts in full. A change is audited (`consent.change`, with the status each
channel had). An opt-in never replaces an opt-out stated later: refused with 409 naming the
channel (`rules.put_consent`).
"""

from __future__ import annotations

from litestar import Controller, Response, patch
from litestar.params import FromPath, JSONBody

from prefstore.http.auth import require_scope
from prefstore.http.customers import IdempotencyKey, IfMatch
from prefstore.http.deps import Caller, Store
from prefstore.http.openapi import problems
from prefstore.http.responses import parse_if_match, written_response
from prefstore.models.inputs import ConsentInput
from prefstore.models.views import Card


class ConsentController(Controller):
    path = "/v1/customers"
    guards = [require_scope]
    tags = ["consent"]

    @patch(
        "/{customer_id:str}/consent",
        opt={"scope": "write"},
        summary="Record contact consent per channel (email, sms, phone, post)",
        description=(
            "Channels left out are unchanged. `at` is when the person said it (default: "
            "now). An opt-in never replaces an opt-out stated later (409 naming the "
            "channel); the source is recorded as `api`."
        ),
        responses=problems(400, 404, 409, 412, 413, 422),
    )
    async def change_consent(
        self,
        store: Store,
        who: Caller,
        customer_id: FromPath[str],
        data: JSONBody[ConsentInput],
        if_match: IfMatch,
        idempotency_key: IdempotencyKey,
    ) -> Response[Card]:
        written = await store.change_consent(
            customer_id,
            data,
            actor=who.name,
            expect_version=parse_if_match(if_match),
            idempotency_key=idempotency_key,
        )
        return written_response(written, who.view)  # type: ignore[return-value]
