"""A customer's events (visits, purchases, contacts, feedback): recording and paging.

Events live in a sorted set per customer, scored by time; a set of operation ids makes a
retried write count once. Recording one also folds it into the record's running history,
in the same transaction.

Two ids, two jobs. The event's id (body `operation_id`, else the `Idempotency-Key`, else one
made here) names the real-world event: two tills sending the same one record it once, and the
second hears `duplicate: true`. The `Idempotency-Key` names the HTTP request: sent again, it
is answered with the first outcome, whatever the body's `operation_id` (`idempotency.py`).
So a request sent with both and retried with either is recorded once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from redis.asyncio.client import Pipeline

from prefstore.customers import rules
from prefstore.customers.idempotency import Operation
from prefstore.customers.transaction import Mutation, Transactions, Written, existing
from prefstore.errors import InvalidInput, NotFound
from prefstore.models.inputs import EventInput
from prefstore.models.records import CustomerRecord, Event
from prefstore.models.views import EventPage
from prefstore.redis.connection import as_bytes, translated_errors
from prefstore.redis.keyspace import decode_event, event_member

MAX_EVENT_PAGE = 200
SCAN_BATCH = 200
MAX_SCANNED = 2000
"""Events one page filtered by venue reads at most (it then answers with a cursor)."""


class EventLog:
    def __init__(self, transactions: Transactions) -> None:
        self._tx = transactions
        self._redis = transactions.redis
        self._keys = transactions.keys

    def _event_command(self, customer_id: str, event: Event) -> Callable[[Pipeline], Any]:
        payload, score = event_member(event)
        ev_key, ops_key = self._keys.events(customer_id), self._keys.operations(customer_id)

        def command(pipe: Pipeline) -> None:
            pipe.zadd(ev_key, {payload: score})
            pipe.sadd(ops_key, event.id)

        return command

    async def record(
        self,
        customer_id: str,
        data: EventInput,
        *,
        actor: str,
        idempotency_key: str | None = None,
    ) -> tuple[Written, Event, bool]:
        """Record an event once per operation id; returns (card, event, duplicate)."""
        # The body's operation_id names the operation as the key does, so it is no part of
        # what the key must be sent with: a retry may carry either or both.
        asked = msgspec.structs.replace(data, operation_id=None)
        op = Operation.of(idempotency_key, "event", customer_id, asked)
        op_id = data.operation_id or op.id
        event = rules.event_from(data, op_id, actor, self._tx.storage.clock())
        ops_key = self._keys.operations(customer_id)
        duplicate = False

        async def build(pipe: Pipeline, current: CustomerRecord | None) -> Mutation | None:
            nonlocal duplicate
            record = existing(customer_id, current)
            await pipe.watch(ops_key)
            duplicate = bool(await pipe.sismember(ops_key, op_id))
            if duplicate:
                return None
            rules.count_event(record.history, event)
            return Mutation(
                record,
                f"event.{event.type}",
                ["events"],
                [self._event_command(customer_id, event)],
                event=event,
            )

        written = await self._tx.run(customer_id, build, actor=actor, op=op)
        if written.replayed and written.event is not None:
            if data.operation_id not in (None, written.event.id):
                raise InvalidInput("operation_id", "differs from the one sent with this key")
            return written, written.event, False
        if duplicate:
            # A retry: answer with what was recorded the first time, not the retry's copy.
            event = await self._stored_event(customer_id, op_id) or event
        return written, event, duplicate

    async def _stored_event(self, customer_id: str, operation_id: str) -> Event | None:
        """The recorded event with this operation id. Operation ids hold no glob characters
        (see `OperationId`), so Redis filters the set server-side; only retries pay this."""
        async with translated_errors():
            async for raw, _score in self._redis.zscan_iter(
                self._keys.events(customer_id), match=f"*{operation_id}*"
            ):
                event = decode_event(as_bytes(raw))
                if event.id == operation_id:
                    return event
        return None

    async def page(
        self,
        customer_id: str,
        *,
        limit: int = 50,
        cursor: str | None = None,
        venue: str | None = None,
    ) -> EventPage:
        """Events newest first; with `venue`, only those recorded there. The cursor is
        `<score>:<skip>`, stable while new ones land. A filtered page reads at most
        `MAX_SCANNED` events: it may hold fewer than `limit` with a cursor to go on from."""
        limit = max(1, min(limit, MAX_EVENT_PAGE))
        top, skip = _parse_cursor(cursor)
        async with translated_errors():
            exists = await self._redis.exists(self._keys.record(customer_id))
        if not exists:
            raise NotFound(f"no customer {customer_id}")
        if venue is not None:
            return await self._at_venue(customer_id, venue, limit, top, skip)
        rows = await self._slice(customer_id, top, skip, limit)
        events = [decode_event(raw) for raw, _score in rows]
        scores = [score for _raw, score in rows]
        return EventPage(events=events, next_cursor=_next(top, skip, scores, limit))

    async def _at_venue(
        self, customer_id: str, venue: str, limit: int, top: str, skip: int
    ) -> EventPage:
        found: list[Event] = []
        scores: list[float] = []
        while len(scores) < MAX_SCANNED:
            rows = await self._slice(customer_id, top, skip + len(scores), SCAN_BATCH)
            for raw, score in rows:
                scores.append(score)
                event = decode_event(raw)
                if event.venue == venue:
                    found.append(event)
                    if len(found) == limit:
                        return EventPage(events=found, next_cursor=_next(top, skip, scores, 0))
            if len(rows) < SCAN_BATCH:
                return EventPage(events=found, next_cursor=None)  # the oldest was read
        return EventPage(events=found, next_cursor=_next(top, skip, scores, 0))

    async def _slice(
        self, customer_id: str, top: str, start: int, count: int
    ) -> list[tuple[bytes, float]]:
        async with translated_errors():
            rows: list[tuple[bytes, float]] = await self._redis.zrevrangebyscore(  # type: ignore[assignment]
                self._keys.events(customer_id),
                top,
                "-inf",
                start=start,
                num=count,
                withscores=True,
            )
        return rows

    async def all(self, customer_id: str) -> list[Event]:
        async with translated_errors():
            rows = await self._redis.zrange(self._keys.events(customer_id), 0, -1)
        return [decode_event(as_bytes(raw)) for raw in rows]


def _next(top: str, skip: int, scores: list[float], limit: int) -> str | None:
    """The cursor after the rows read from (`top`, `skip`) with these `scores`; None when
    they were fewer than `limit` (the last page; 0: there may be more whatever their
    number)."""
    if not scores or len(scores) < limit:
        return None
    last = scores[-1]
    same = sum(1 for score in scores if score == last)
    carried = skip if top != "+inf" and float(top) == last else 0
    return f"{last:.0f}:{carried + same}"


def _parse_cursor(cursor: str | None) -> tuple[str, int]:
    if not cursor:
        return "+inf", 0
    try:
        top, skip = cursor.split(":")
        return str(int(top)), int(skip)
    except ValueError:
        raise InvalidInput("cursor", "not a cursor this service returned") from None
