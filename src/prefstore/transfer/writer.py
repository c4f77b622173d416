"""The batch write engine: a few pipelined round trips per batch instead of per row.

Per batch: (1) MGET the owners of every identifier the rows carry, plus the suppression
flags; (2) MGET the records of the customers they resolve to, plus which of their event
operation ids were seen; then, in Python, merge each row into its customer; (3) one
pipeline of compare-and-set scripts, one per changed customer, each applying that customer's
whole write atomically only if its version is still the one read in (2) and its new
identifiers are still free. A customer another writer changed in between is re-done from
fresh data. The bytes written are the store's: `store.encode_record`, `cards.render`,
`store.identifier_keys`, `store.event_member`, `changes.encode_entry`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import hiredis
import msgspec
from redis.asyncio import Redis

from prefstore.customers import records
from prefstore.customers.cards import render
from prefstore.customers.changes import FEED_MAXLEN
from prefstore.customers.identifiers import identifier_keys, suppression_hashes
from prefstore.errors import InvalidInput
from prefstore.models import ChangeEntry, CustomerRecord, Event, History
from prefstore.redis.codec import decode_record, encode_entry, encode_record, event_member
from prefstore.redis.connection import as_bytes, as_text, translated_errors
from prefstore.redis.keyspace import KeySpace
from prefstore.transfer import merge
from prefstore.transfer.rows import Incoming, event_operation_id

Outcome = Literal["created", "updated", "unchanged", "suppressed", "rejected"]
MAX_ATTEMPTS = 8
_CUSTOMER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# KEYS: rec, card, changes, events, ops, claimed identifier keys…, released identifier keys…
# ARGV: expected version, customer id, #claims, record, version, card all, card staff,
#       change entry, feed maxlen, then (event member, score, operation id) triples.
# Returns {1} when written, {0, version} when the version moved, {-1, i} when claim i is taken.
APPLY_SCRIPT = """
local have = '0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  have = redis.call('HGET', KEYS[2], 'v') or '0'
end
if have ~= ARGV[1] then return {0, have} end
local claims = tonumber(ARGV[3])
for i = 6, 5 + claims do
  local owner = redis.call('GET', KEYS[i])
  if owner and owner ~= ARGV[2] then return {-1, i - 5} end
end
redis.call('SET', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], 'v', ARGV[5], 'all', ARGV[6], 'staff', ARGV[7])
for i = 6, 5 + claims do redis.call('SET', KEYS[i], ARGV[2]) end
for i = 6 + claims, #KEYS do redis.call('DEL', KEYS[i]) end
for i = 10, #ARGV, 3 do
  redis.call('ZADD', KEYS[4], ARGV[i + 1], ARGV[i])
  redis.call('SADD', KEYS[5], ARGV[i + 2])
end
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[9], '*', 'e', ARGV[8])
return {1}
"""


@dataclass
class RowResult:
    outcome: Outcome
    customer_id: str | None = None
    rejection: InvalidInput | None = None


@dataclass
class _Pending:
    """One customer's state while a batch is merged into it."""

    base: CustomerRecord | None
    current: CustomerRecord | None
    seen_ops: set[str]
    events: list[Event] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    held: dict[str, tuple[str, str]] | None = None
    """Identifier keys of `base`, computed once (they are digests)."""
    wanted: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Identifier keys of `current`."""

    def held_keys(self, keys: KeySpace) -> dict[str, tuple[str, str]]:
        if self.held is None:
            self.held = identifier_keys(keys, self.base) if self.base else {}
        return self.held


def new_customer_id(incoming: Incoming) -> str:
    """Deterministic, so an interrupted run and its re-run create the same customer: the CRM
    id itself when it is a valid customer id, else a digest of the first identifier."""
    if incoming.id:
        return incoming.id
    crm = incoming.crm_id
    if crm and _CUSTOMER_ID.match(crm):
        return crm
    kind, value = incoming.match_keys()[0]
    return "i" + hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=8).hexdigest()


class _CachedKeys(KeySpace):
    """Identifier index keys are digests; a batch asks for each one several times."""

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self._identifiers: dict[tuple[str, str], str] = {}

    def identifier(self, kind: str, value: str) -> str:
        found = self._identifiers.get((kind, value))
        if found is None:
            if len(self._identifiers) > 50_000:
                self._identifiers.clear()
            found = self._identifiers[kind, value] = super().identifier(kind, value)
        return found


class BatchWriter:
    def __init__(
        self,
        redis: Redis,
        keys: KeySpace,
        *,
        actor: str,
        notes_on_card: int,
        clock: Callable[[], datetime],
        salt: bytes,
        dry_run: bool,
    ) -> None:
        self.redis = redis
        self.keys = _CachedKeys(keys.prefix)
        self.actor = actor
        self.notes_on_card = notes_on_card
        self.clock = clock
        self.salt = salt
        self.dry_run = dry_run
        self._script = redis.register_script(APPLY_SCRIPT)
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
        row_keys = [[self.keys.identifier(k, v) for k, v in row.match_keys()] for row in rows]
        owners, flags = await self._read_owners(rows, row_keys)
        cids = self._resolve(rows, row_keys, owners)
        pendings = await self._read_customers(rows, cids)
        local: dict[str, str] = {}
        now = self.clock()
        for pos, (row, cid) in enumerate(zip(rows, cids, strict=True)):
            results[index[pos]] = self._apply_row(
                row, cid, pendings[cid], owners, local, flags[pos], now, pos
            )
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
        replies = await self._send(commands)
        found = replies[0] if keys else []
        owners = {k: as_text(v) for k, v in zip(keys, found, strict=False) if v is not None}
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
            cid = cid or new_customer_id(row)
            for key in keys:
                batch.setdefault(key, cid)
            cids.append(cid)
        return cids

    async def _read_customers(self, rows: list[Incoming], cids: list[str]) -> dict[str, _Pending]:
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
        replies = await self._send(commands)
        pendings = {}
        for cid, raw in zip(unique, replies[0], strict=True):
            record = decode_record(as_bytes(raw)) if raw is not None else None
            pendings[cid] = _Pending(base=record, current=record, seen_ops=set())
        for (cid, op_ids), seen in zip(ops.items(), replies[1:], strict=True):
            pendings[cid].seen_ops.update(o for o, s in zip(op_ids, seen, strict=True) if s)
        return pendings

    def _apply_row(
        self,
        row: Incoming,
        cid: str,
        pending: _Pending,
        owners: dict[str, str],
        local: dict[str, str],
        suppressed: bool,
        now: datetime,
        pos: int,
    ) -> RowResult:
        current = pending.current
        crm = row.identifiers.get("crm")
        if current is not None and crm and current.identifiers.get("crm", crm) != crm:
            # Matched by email or phone to a customer with another CRM id: not the same one.
            name = "emails" if row.emails else "phones" if row.phones else "identifiers"
            kind = {"emails": "email", "phones": "phone"}.get(name, "identifier")
            err = InvalidInput(row.source(name), f"this {kind} belongs to another customer")
            return RowResult("rejected", cid, err)
        if current is None and suppressed:
            return RowResult("suppressed", cid)
        if current is None and row.restore is None and not row.name:
            err = InvalidInput(row.source("name"), "a name is needed to create a customer")
            return RowResult("rejected", cid, err)
        events = merge.row_events(row, cid, self.actor, now)
        if pending.seen_ops or pending.events:
            taken = pending.seen_ops | {e.id for e in pending.events}
            events = [e for e in events if e.id not in taken]
        events = list({e.id: e for e in events}.values())
        if row.restore is not None:
            new = merge.restored(current, row, events)
            changes = merge.changed_fields(current, new) if current else ["*"]
        else:
            base = current or merge.new_customer(cid, row, now)
            new, changes = merge.merge(base, row, self.actor, now)
            if current is None:
                changes = ["*"]
            if events:
                new.history = _counted(new.history, events)
        if current is not None and not changes and not events:
            return RowResult("unchanged", cid)
        wanted = identifier_keys(self.keys, new)
        conflict = self._conflict(row, cid, pending, new, wanted, owners, local)
        if conflict is not None:
            return RowResult("rejected", cid, conflict)
        for key in wanted:
            local[key] = cid
        pending.current = new
        pending.wanted = wanted
        pending.events += events
        pending.rows.append(pos)
        extra = ["events"] if events else []
        pending.fields = list(dict.fromkeys([*pending.fields, *changes, *extra]))
        return RowResult("created" if current is None else "updated", cid)

    def _conflict(
        self,
        row: Incoming,
        cid: str,
        pending: _Pending,
        new: CustomerRecord,
        wanted: dict[str, tuple[str, str]],
        owners: dict[str, str],
        local: dict[str, str],
    ) -> InvalidInput | None:
        held = pending.held_keys(self.keys)
        for key, (kind, value) in wanted.items():
            if key in held:
                continue
            owner = local.get(key) or owners.get(key)
            if owner is not None and owner != cid:
                name = _record_field(kind, value, new)
                return InvalidInput(row.source(name), f"this {kind} belongs to another customer")
        return None

    # ------------------------------------------------------------ the write
    async def _commit(self, pendings: dict[str, _Pending]) -> list[int]:
        """Send the scripts; return the batch positions of rows to redo."""
        writes = [p for p in pendings.values() if p.rows and p.current is not None]
        if not writes:
            return []
        # SCRIPT LOAD first, on the same connection: a Redis that restarted has no cache.
        commands: list[tuple[Any, ...]] = [(b"SCRIPT", b"LOAD", APPLY_SCRIPT)]
        for pending in writes:
            keys, args = self._script_call(pending)
            commands.append((b"EVALSHA", self._script.sha, len(keys), *keys, *args))
        replies = await self._send(commands)
        redo: list[int] = []
        for pending, reply in zip(writes, replies[1:], strict=True):
            if int(reply[0]) != 1:
                redo += pending.rows
        return sorted(redo)

    async def _send(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """A pipeline packed by hiredis: redis-py packs commands in Python at ~3 µs per
        argument, which alone would cap the import well below its target rate."""
        pool = self.redis.connection_pool
        async with translated_errors():
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

    def _script_call(self, pending: _Pending) -> tuple[list[Any], list[Any]]:
        new = pending.current
        assert new is not None
        old_version = pending.base.version if pending.base else 0
        new.version = old_version + 1
        card = render(new, self.notes_on_card)
        keys = self.keys
        held = pending.held_keys(keys)
        wanted = pending.wanted
        claims = [k for k in wanted if k not in held]
        releases = [k for k in held if k not in wanted]
        op = "import" if pending.base else "create"
        entry = ChangeEntry(
            op=op,
            customer_id=new.id,
            version=new.version,
            actor=self.actor,
            at=self.clock(),
            fields=pending.fields if pending.base else ["*"],
        )
        args: list[Any] = [
            str(old_version),
            new.id,
            len(claims),
            encode_record(new),
            str(new.version),
            card.touchpoint,
            card.staff,
            encode_entry(entry)[b"e"],
            FEED_MAXLEN,
        ]
        for event in pending.events:
            member, score = event_member(event)
            args += [member, score, event.id]
        script_keys = [
            keys.record(new.id),
            keys.card(new.id),
            keys.changes,
            keys.events(new.id),
            keys.operations(new.id),
            *claims,
            *releases,
        ]
        return script_keys, args


def _counted(history: History, events: list[Event]) -> History:
    history = msgspec.structs.replace(history, item_counts=dict(history.item_counts))
    for event in events:
        records.count_event(history, event)
    return history


def _record_field(kind: str, value: str, record: CustomerRecord) -> str:
    if kind == "email":
        return "emails"
    if kind == "phone":
        return "phones"
    return f"identifiers.{kind}"
