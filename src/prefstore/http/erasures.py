"""GET /v1/erasures/{id} (admin): the receipt of one erasure, step by step."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.params import PathParameter

from prefstore.errors import NotFound
from prefstore.http.auth import require_scope
from prefstore.http.deps import AllServices
from prefstore.http.openapi import problems
from prefstore.models.views import ErasureReceipt

ErasureId = Annotated[str, PathParameter(max_length=64, pattern=r"^er_[0-9a-f]{1,60}$")]


@get(
    "/v1/erasures/{erasure_id:str}",
    guards=[require_scope],
    opt={"scope": "admin"},
    tags=["customers"],
    summary="When each step of an erasure finished (keyspace, search index, AOF, RDB, slow log)",
    responses=problems(400, 404),
)
async def erasure_receipt(services: AllServices, erasure_id: ErasureId) -> ErasureReceipt:
    follower = services.search
    position = follower.position if follower.loaded.is_set() else None
    receipt = await services.erasures.view(erasure_id, position)
    if receipt is None:
        raise NotFound(f"no erasure receipt {erasure_id} (unknown, or past its retention)")
    return receipt


ERASURE_ROUTES = [erasure_receipt]
