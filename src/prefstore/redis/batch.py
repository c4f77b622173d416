"""Many commands in one round trip, packed by hiredis: the importer's batches.

redis-py packs commands in Python at ~3 µs per argument; an import batch of a thousand
customers carries tens of thousands of arguments, and packing them that way alone would cap
the import well below its target rate. hiredis packs them in C. The replies are read in
order off the same pooled connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hiredis
from redis.asyncio import Redis

from prefstore.errors import Unavailable
from prefstore.redis.connection import OUTAGE_ERRORS


async def send_packed(redis: Redis, commands: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Send `commands` in one write and return their replies in order. An error reply is
    raised (redis-py's ResponseError); an outage raises `Unavailable`.

    Outages are translated here rather than with `translated_errors()`: a batch send runs
    for every import batch, and that context manager costs a generator each time."""
    pool = redis.connection_pool
    try:
        conn = await pool.get_connection()  # type: ignore[no-untyped-call]
        try:
            packed = b"".join([hiredis.pack_command(c) for c in commands])
            await conn.send_packed_command(packed, check_health=False)
            return [await conn.read_response() for _ in commands]
        except BaseException:
            # Replies may be left unread: the connection cannot be reused.
            await conn.disconnect()
            raise
        finally:
            await pool.release(conn)
    except OUTAGE_ERRORS as exc:
        raise Unavailable(f"store unavailable: {type(exc).__name__}") from exc
