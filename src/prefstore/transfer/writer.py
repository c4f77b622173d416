"""The batch write engine: a few pipelined round trips per batch instead of per row.

Per batch: (1) MGET the owners of every identifier the rows carry, plus the suppression
flags; (2) MGET the records of the customers they resolve to, plus which of their event
operation ids were seen; then, in Python, fold each row into its customer (`merge.py`); (3)
one pipeline of compare-and-set scripts, one per changed customer, each applying that
customer's whole write atomically only if its version is still the one read in (2) and its
new identifiers are still free (`APPLY_CHANGE`, below: this is its only user). A customer
another writer changed in between is re-done from fresh data. Each round trip is one
hiredis-packed pipeline (`batch.send_packed`). The bytes written are the store's:
`keyspace.encode_record`, `cards.card_fields`, `keyspace.identifier_keys`,
`keyspace.event_member`, `keyspace.encode_entry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prefstore.customers.cards import card_fields, render
from prefstore.customers.changes import FEED_MAXLEN
from prefstore.customers.transaction import Storage
from prefstore.errors import InvalidInput
from prefstore.models.records import ChangeEntry, CustomerRecord
from prefstore.redis.batch import send_packed
from prefstore.redis.connection import Script
from prefstore.redis.keyspace import (
    CARD_FIELD_VERSION,
    KeySpace,
    MemoKeySpace,
    decode_record,
    encode_entry,
    encode_record,
    event_member,
    suppression_hashes,
)
from prefstore.transfer.merge import (
    FoldContext,
    Owners,
    Pending,
    RowResult,
    event_operation_id,
    fold_row,
    new_customer_id,
)
from prefstore.transfer.rows import Incoming

MAX_ATTEMPTS = 8


class BatchWriter:
    def __init__(self, storage: Storage, *, actor: str, salt: bytes, dry_run: bool) -> None:
        self.storage = storage
        self.redis = storage.redis
        # Identifier index keys are digests, asked for several times a batch: memoised.
        self.keys = MemoKeySpace(storage.keys.prefix)
        self.actor, self.salt, self.dry_run = actor, salt, dry_run
        self._check_suppression = True

    async def write(self, rows: list[Incoming]) -> list[RowResult]:
        """Apply a batch; one result per row, in order. Safe to repeat after a failure."""
        results: list[RowResult | None] = [None] * len(rows)
        todo = list(range(len(rows)))
        for _attempt in range(MAX_ATTEMPTS):
            retry = await self._attempt([rows[i] for i in todo], todo, results)
            if not retry:
                break
            todo = retry
        else:
            for i in todo:
                results[i] = RowResult(
                    "rejected", rejection=InvalidInput("row", "customer busy; import it again")
                )
        return [r for r in results if r is not None]

    # ------------------------------------------------------------ one attempt
    async def _attempt(
        self, rows: list[Incoming], index: list[int], results: list[RowResult | None]
    ) -> list[int]:
        # Each row's identifier keys, computed once: they are digests, and both the read and
        # the resolution need them.
        row_keys = [[self.keys.identifier(k, v) for k, v in row.match_keys] for row in rows]
        owners, flags = await self._read_owners(rows, row_keys)
        cids = self._resolve(rows, row_keys, owners)
        pendings = await self._read_customers(rows, cids)
        ctx = FoldContext(self.keys, self.actor, self.storage.clock(), Owners(owners))
        for pos, (row, cid) in enumerate(zip(rows, cids, strict=True)):
            results[index[pos]] = fold_row(row, cid, pos, pendings[cid], flags[pos], ctx)
        if self.dry_run:
            return []
        retry_rows = await self._commit(pendings)
        return [index[pos] for pos in retry_rows]

    async def _read_owners(
        self, rows: list[Incoming], row_keys: list[list[str]]
    ) -> tuple[dict[str, str], list[bool]]:
        keys = sorted({key for keys in row_keys for key in keys})
        hashes: list[list[str]] = []
        if self._check_suppression:
            hashes = [
                suppression_hashes(
                    CustomerRecord(emails=r.emails, phones=r.phones, identifiers=r.identifiers),
                    self.salt,
                )
                for r in rows
            ]
        flat = [h for row_hashes in hashes for h in row_hashes]
        commands: list[tuple[Any, ...]] = [(b"MGET", *keys)] if keys else [(b"ECHO", b"")]
        if flat:
            commands.append((b"SMISMEMBER", self.keys.suppressed, *flat))
        commands.append((b"SCARD", self.keys.suppressed))
        replies = await send_packed(self.redis, commands)
        found = replies[0] if keys else []
        # hiredis replies on a connection without decode_responses: bytes, as sent.
        owners = {k: v.decode() for k, v in zip(keys, found, strict=False) if v is not None}
        marks: list[bool] = [False] * len(rows)
        if flat:
            flags, start = replies[1], 0
            for pos, row_hashes in enumerate(hashes):
                marks[pos] = any(flags[start : start + len(row_hashes)])
                start += len(row_hashes)
        # Hashing every row costs; skip it while nobody has been erased.
        self._check_suppression = int(replies[-1]) > 0
        return owners, marks

    def _resolve(
        self, rows: list[Incoming], row_keys: list[list[str]], owners: dict[str, str]
    ) -> list[str]:
        """The customer each row is about: by CRM id, else email, phone, other identifiers
        (rows earlier in the batch count as owners too), else a new deterministic id."""
        batch: dict[str, str] = {}
        cids = []
        for row, keys in zip(rows, row_keys, strict=True):
            cid = row.id or next(
                (batch.get(k) or owners.get(k) for k in keys if k in batch or k in owners), None
            )
            cid = cid or new_customer_id(row, self.salt)
            for key in keys:
                batch.setdefault(key, cid)
            cids.append(cid)
        return cids

    async def _read_customers(self, rows: list[Incoming], cids: list[str]) -> dict[str, Pending]:
        unique = list(dict.fromkeys(cids))
        ops: dict[str, list[str]] = {}
        for row, cid in zip(rows, cids, strict=True):
            ids = [e.id for e in row.restore_events] or [
                e.operation_id or event_operation_id(cid, e) for e in row.events
            ]
            if row.events or row.restore_events:
                ops.setdefault(cid, []).extend(i for i in ids if i)
        commands: list[tuple[Any, ...]] = [(b"MGET", *[self.keys.record(c) for c in unique])]
        commands += [
            (b"SMISMEMBER", self.keys.operations(cid), *op_ids) for cid, op_ids in ops.items()
        ]
        replies = await send_packed(self.redis, commands)
        pendings = {}
        for cid, raw in zip(unique, replies[0], strict=True):
            record = decode_record(raw) if raw is not None else None
            pendings[cid] = Pending(base=record, current=record, seen_ops=set())
        for (cid, op_ids), seen in zip(ops.items(), replies[1:], strict=True):
            pendings[cid].seen_ops.update(o for o, s in zip(op_ids, seen, strict=True) if s)
        return pendings

    # ------------------------------------------------------------ the write
    async def _commit(self, pendings: dict[str, Pending]) -> list[int]:
        """Send the scripts; return the batch positions of rows to redo."""
        writes = [p for p in pendings.values() if p.rows and p.current is not None]
        if not writes:
            return []
        # SCRIPT LOAD first, on the same connection: a Redis that restarted has no cache.
        commands = [APPLY_CHANGE.load_command]
        commands += [apply_command(self.keys, self._customer_write(p)) for p in writes]
        replies = await send_packed(self.redis, commands)
        redo: list[int] = []
        for pending, reply in zip(writes, replies[1:], strict=True):
            if not applied(reply):
                redo += pending.rows
        return sorted(redo)

    def _customer_write(self, pending: Pending) -> CustomerWrite:
        """The bytes the store writes for the same change: `encode_record`, `card_fields`
        of `render`, `identifier_keys`, `event_member`, `encode_entry`."""
        new = pending.current
        assert new is not None
        old_version = pending.base.version if pending.base else 0
        new.version = old_version + 1
        held = pending.held_keys(self.keys)
        entry = ChangeEntry(
            op="import" if pending.base else "create",
            customer_id=new.id,
            version=new.version,
            actor=self.actor,
            at=self.storage.clock(),
            fields=pending.fields if pending.base else ["*"],
        )
        events = [(*event_member(event), event.id) for event in pending.events]
        return CustomerWrite(
            customer_id=new.id,
            expected_version=old_version,
            record=encode_record(new),
            card=card_fields(render(new, self.storage.notes_on_card)),
            entry=encode_entry(entry),
            feed_maxlen=FEED_MAXLEN,
            events=events,
            claims=[k for k in pending.wanted if k not in held],
            releases=[k for k in held if k not in pending.wanted],
        )


# ---------------------------------------------------------------- the compare-and-set script
# No script spells a key or a card-hash field: every key name and field comes from the key
# space (`keyspace.py`) as KEYS/ARGV, so the key layout has one definition.
#
# KEYS: record, card, change feed, events, operation ids, claimed identifier keys…,
#       released identifier keys…
# ARGV: 1 expected version, 2 customer id, 3 #claims, 4 record, 5 card version field,
#       6 #card fields n, then n (field, value) pairs, then the feed entry's field and value,
#       the feed maxlen, then (event member, score, operation id) triples.
# Returns {1} when written, {0, version} when the version moved, {-1, i} when claim i is taken.
APPLY_CHANGE = Script.of("""
local have = '0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  have = redis.call('HGET', KEYS[2], ARGV[5]) or '0'
end
if have ~= ARGV[1] then return {0, have} end
local claims = tonumber(ARGV[3])
for i = 6, 5 + claims do
  local owner = redis.call('GET', KEYS[i])
  if owner and owner ~= ARGV[2] then return {-1, i - 5} end
end
local card_end = 6 + 2 * tonumber(ARGV[6])
redis.call('SET', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], unpack(ARGV, 7, card_end))
for i = 6, 5 + claims do redis.call('SET', KEYS[i], ARGV[2]) end
for i = 6 + claims, #KEYS do redis.call('DEL', KEYS[i]) end
for i = card_end + 4, #ARGV, 3 do
  redis.call('ZADD', KEYS[4], ARGV[i + 1], ARGV[i])
  redis.call('SADD', KEYS[5], ARGV[i + 2])
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[card_end + 3], '*',
           ARGV[card_end + 1], ARGV[card_end + 2])
return {1}
""")


@dataclass(frozen=True)
class CustomerWrite:
    """One customer's whole write, applied atomically by APPLY_CHANGE only if the stored
    version is still `expected_version` and the `claims` are still free."""

    customer_id: str
    expected_version: int
    record: bytes
    card: Mapping[bytes, bytes | str]
    """The card hash fields (`cards.card_fields`)."""
    entry: Mapping[bytes, bytes]
    """The change-feed entry's fields (`keyspace.encode_entry`): exactly one."""
    feed_maxlen: int
    events: Sequence[tuple[bytes, int, str]]
    """(sorted-set member, score, operation id) of each new event."""
    claims: Sequence[str]
    releases: Sequence[str]


def apply_command(keys: KeySpace, write: CustomerWrite) -> tuple[Any, ...]:
    """The EVALSHA command for `write` (send APPLY_CHANGE.load_command first on the same
    connection: a restarted Redis has no script cache)."""
    cid = write.customer_id
    script_keys = [
        keys.record(cid),
        keys.card(cid),
        keys.changes,
        keys.events(cid),
        keys.operations(cid),
        *write.claims,
        *write.releases,
    ]
    ((entry_field, entry_value),) = write.entry.items()
    args: list[Any] = [
        str(write.expected_version),
        cid,
        len(write.claims),
        write.record,
        CARD_FIELD_VERSION,
        len(write.card),
    ]
    for field, value in write.card.items():
        args += (field, value)
    args += (entry_field, entry_value, write.feed_maxlen)
    for member, score, operation_id in write.events:
        args += (member, score, operation_id)
    return (b"EVALSHA", APPLY_CHANGE.sha, len(script_keys), *script_keys, *args)


def applied(reply: Sequence[Any]) -> bool:
    """False when APPLY_CHANGE refused (the version moved or a claim was taken): redo."""
    return int(reply[0]) == 1
