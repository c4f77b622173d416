"""Erasure receipts: when each step of an erasure finished, kept without any PII.

A receipt is a hash under a random erasure id (`KeySpace.erasure`). It holds times and step
statuses only — not the customer id, not an identifier, not a digest of one — so keeping it
for `receipt_seconds` (90 days by default) keeps nothing about the person. Whoever erased
got the id in the answer to `DELETE /v1/customers/{id}`.

The receipt and the pending entry (`KeySpace.erasures_pending`) are written in the erasure's
own MULTI, beside the deletes: an erasure whose keys are gone is always scheduled for its disk
steps, whichever process later runs them (`customers/disk_erasure.py`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from prefstore.models.views import (
    ErasureReceipt,
    ErasureStep,
    ErasureStepName,
    ErasureStepStatus,
)
from prefstore.redis.connection import as_text, translated_errors
from prefstore.redis.keyspace import KeySpace

DEFAULT_REWRITE_SECONDS = 900.0
DEFAULT_RECEIPT_SECONDS = 90 * 24 * 3600
DISK_STEPS: tuple[ErasureStepName, ...] = ("aof_rewrite", "rdb_snapshot", "slowlog")
_FINISHED = ("done", "not_applicable")
_STATUSES: dict[str, ErasureStepStatus] = {
    "done": "done",
    "pending": "pending",
    "not_applicable": "not_applicable",
    "unknown": "unknown",
}


@dataclass(frozen=True)
class ErasurePolicy:
    rewrite_seconds: float = DEFAULT_REWRITE_SECONDS
    """The bound: an erasure's disk steps (AOF rewrite, RDB snapshot, slow log) finish
    within this many seconds of the erasure (`PREFSTORE_ERASURE_REWRITE_SECONDS`)."""
    receipt_seconds: int = DEFAULT_RECEIPT_SECONDS
    """How long a receipt is kept (`PREFSTORE_ERASURE_RECEIPT_DAYS`)."""


@dataclass(frozen=True)
class StepOutcome:
    status: ErasureStepStatus
    detail: str | None = None


def now_ms() -> int:
    return int(time.time() * 1000)


def _time(ms: str | None) -> datetime | None:
    return datetime.fromtimestamp(int(ms) / 1000, UTC) if ms else None


def stream_position(value: str) -> tuple[int, int]:
    ms, _, seq = value.partition("-")
    return int(ms), int(seq or 0)


class ErasureReceipts:
    def __init__(self, redis: Redis, keys: KeySpace, policy: ErasurePolicy) -> None:
        self._redis = redis
        self._keys = keys
        self.policy = policy

    def queue(self, pipe: Pipeline, erasure_id: str, at_ms: int) -> None:
        """Inside the erasure's MULTI: the receipt (keyspace step done now) and the pending
        entry that makes some process run the disk steps."""
        key = self._keys.erasure(erasure_id)
        due = at_ms + int(self.policy.rewrite_seconds * 1000)
        pipe.hset(key, mapping={"requested": at_ms, "keyspace": at_ms, "due": due})
        pipe.expire(key, self.policy.receipt_seconds)
        pipe.zadd(self._keys.erasures_pending, {erasure_id: at_ms})

    async def note_feed_entry(self, erasure_id: str, entry_id: str) -> None:
        """The change-feed entry of the erasure: a process's search index has dropped the
        person once its follower has passed this entry."""
        async with translated_errors():
            await self._redis.hset(self._keys.erasure(erasure_id), "feed", entry_id)

    async def finish(self, erasure_ids: list[str], outcomes: dict[str, StepOutcome]) -> None:
        """Record the disk steps' outcomes on each receipt; those whose steps are all
        finished leave the pending set (others stay, to be retried)."""
        at = now_ms()
        fields: dict[str, Any] = {}
        for step, outcome in outcomes.items():
            fields[step] = outcome.status
            fields[f"{step}_detail"] = outcome.detail or ""
            if outcome.status in _FINISHED:
                fields[f"{step}_at"] = at
        pending = StepOutcome("pending")
        settled = all(outcomes.get(s, pending).status in _FINISHED for s in DISK_STEPS)
        async with translated_errors(), self._redis.pipeline(transaction=True) as pipe:
            for erasure_id in erasure_ids:
                key = self._keys.erasure(erasure_id)
                # Only receipts still there: one that expired is not brought back half-empty.
                pipe.eval(_HSET_IF_EXISTS, 1, key, *_flat(fields))
            if settled and erasure_ids:
                pipe.zrem(self._keys.erasures_pending, *erasure_ids)
            await pipe.execute()

    async def view(self, erasure_id: str, search_position: str | None) -> ErasureReceipt | None:
        """The receipt as the API shows it; `search_position` is this process's search
        follower position (None while its index is loading)."""
        async with translated_errors():
            raw = await self._redis.hgetall(self._keys.erasure(erasure_id))
            ttl = await self._redis.ttl(self._keys.erasure(erasure_id)) if raw else -2
        if not raw:
            return None
        fields = {as_text(k): as_text(v) for k, v in raw.items()}
        steps = [
            ErasureStep(step="keyspace", status="done", at=_time(fields["keyspace"])),
            _search_step(fields.get("feed"), search_position),
            *(_disk_step(fields, step) for step in DISK_STEPS),
        ]
        requested = _time(fields["requested"])
        assert requested is not None
        return ErasureReceipt(
            id=erasure_id,
            requested_at=requested,
            due_by=_time(fields["due"]) or requested,
            complete=all(s.status in _FINISHED for s in steps if s.step != "search_index"),
            steps=steps,
            kept_until=datetime.fromtimestamp(time.time() + max(ttl, 0), UTC),
        )


def _disk_step(fields: dict[str, str], step: ErasureStepName) -> ErasureStep:
    status = fields.get(step, "pending")
    return ErasureStep(
        step=step,
        status=_STATUSES.get(status, "unknown"),
        at=_time(fields.get(f"{step}_at")),
        detail=fields.get(f"{step}_detail") or None,
    )


def _search_step(feed_entry: str | None, position: str | None) -> ErasureStep:
    if feed_entry is None:
        return ErasureStep(
            step="search_index",
            status="unknown",
            detail="the erasure's change-feed entry was not recorded on the receipt",
        )
    if position is not None and stream_position(position) >= stream_position(feed_entry):
        return ErasureStep(
            step="search_index",
            status="done",
            detail="this process's index has applied the erasure (other processes follow "
            "the same change feed, each within about a second)",
        )
    return ErasureStep(
        step="search_index", status="pending", detail="this process's index has not yet"
    )


def _flat(fields: dict[str, Any]) -> list[Any]:
    return [part for pair in fields.items() for part in pair]


_HSET_IF_EXISTS = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV))
end
return 0
"""
