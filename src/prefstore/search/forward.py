"""What the index keeps per customer, packed: the id, the name as vocabulary word ids, the
email local parts (with a domain id), the phones' last digits and the day of the last visit.
Nothing else: the cues shown with a hit (name as written, masked contacts, tags, city) are
read from the customer's card in Redis for the few hits returned (`prefstore.search.cues`).

Each customer has a small integer *ordinal*. The packed entries sit back to back in one
`bytearray` (a `bytes` object per customer would cost 33 bytes of header each), found by
offset and length; the id → ordinal map is an open-addressing table of ordinals keyed by
crc32 of the id (a dict of a million str keys costs ~90 bytes a customer, this ~8).
"""

from __future__ import annotations

import sys
import zlib
from array import array
from datetime import datetime

import msgspec

EMPTY = -1
GONE = -2
PHONE_DIGITS = 10
"""Trailing phone digits kept: enough to tell a full national number."""
DAY_S = 86_400
ID_BITS = 0x1FFFF
"""The low bits of a rank key: of the id's crc32 (also a cheap first test in the id table)."""


class Packed(msgspec.Struct, array_like=True):
    id: str
    words: list[int]
    """Vocabulary ids of the name's own words (their Latin forms are in the vocabulary)."""
    locals: list[str]
    """Each email's local part, letters and digits only."""
    domains: list[int]
    """Each email's domain, as an id into the index's domain list."""
    phones: list[str]
    """Each phone's last `PHONE_DIGITS` digits."""


_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder(Packed).decode


def rank_key(customer_id: str, last_visit: datetime | None) -> int:
    """Orders customers who tie on a query, the same in every process: the latest visit
    first (by day), then by a digest of the id."""
    days = int(last_visit.timestamp() // DAY_S) if last_visit else 0
    return (max(0, min(days, 0x7FFF)) << 17) | (zlib.crc32(customer_id.encode()) & ID_BITS)


def local_digest(local: str) -> int:
    return zlib.crc32(local.encode()) or 1


class ForwardStore:
    def __init__(self) -> None:
        self._pool = bytearray()
        self._offsets = array("I")
        """Into the pool: 4 GiB of entries, some 60 million customers."""
        self._lengths = array("H")
        self.rank_keys = array("I")
        """Per ordinal: `rank_key`, read by the candidate stage to break ties."""
        self.initials = array("I")
        """Per ordinal: a bit per letter a-z that begins a word of the name (in Latin), so an
        initial ("j smith") counts in the candidate stage without a postings list."""
        self.local_digests = array("I")
        """Per ordinal: crc32 of the first email's local part (0: none), so that the customer
        whose local part a query spells exactly stands out among those sharing its trigrams."""
        self._slots = array("i", [EMPTY]) * 1024
        self._used = 0
        self._count = 0
        self._garbage = 0
        self._free: list[int] = []

    def __len__(self) -> int:
        return self._count

    @property
    def capacity(self) -> int:
        """One past the highest ordinal in use."""
        return len(self._offsets)

    # ------------------------------------------------------------ reading
    def get(self, ordinal: int) -> Packed | None:
        length = self._lengths[ordinal]
        if not length:
            return None
        start = self._offsets[ordinal]
        return _decode(self._pool[start : start + length])

    def ordinal_of(self, customer_id: str) -> int | None:
        slot = self._find(customer_id)
        ordinal = self._slots[slot]
        return ordinal if ordinal >= 0 else None

    def _find(self, customer_id: str) -> int:
        """The slot holding `customer_id`, or the first free slot on its probe sequence."""
        mask = len(self._slots) - 1
        crc = zlib.crc32(customer_id.encode())
        slot, low = crc & mask, crc & ID_BITS
        reuse = -1
        while True:
            ordinal = self._slots[slot]
            if ordinal == EMPTY:
                return slot if reuse < 0 else reuse
            if ordinal == GONE:
                reuse = slot if reuse < 0 else reuse
            elif self.rank_keys[ordinal] & ID_BITS == low:  # cheap test before decoding
                packed = self.get(ordinal)
                if packed is not None and packed.id == customer_id:
                    return slot
            slot = (slot + 1) & mask

    # ------------------------------------------------------------ changing
    def put(self, packed: Packed, key: int, initials: int) -> tuple[int, Packed | None]:
        """Store (or replace) a customer's entry: (its ordinal, the entry it replaced)."""
        ordinal, old = self._put(packed, key, initials)
        self.local_digests[ordinal] = local_digest(packed.locals[0]) if packed.locals else 0
        return ordinal, old

    def _put(self, packed: Packed, key: int, initials: int) -> tuple[int, Packed | None]:
        slot = self._find(packed.id)
        ordinal = self._slots[slot]
        old = self.get(ordinal) if ordinal >= 0 else None
        blob = _encode(packed)
        if ordinal < 0:
            self._used += ordinal == EMPTY  # a reused GONE slot was counted already
            ordinal = self._new_ordinal()
            self._slots[slot] = ordinal
            self._count += 1
        else:
            self._garbage += self._lengths[ordinal]
        self._offsets[ordinal] = len(self._pool)
        self._lengths[ordinal] = len(blob)
        self._pool += blob
        self.rank_keys[ordinal] = key
        self.initials[ordinal] = initials
        if self._used * 4 >= len(self._slots) * 3:
            self._rehash(len(self._slots) * 2)
        self._compact_if_wasteful()
        return ordinal, old

    def delete(self, customer_id: str) -> tuple[int, Packed] | None:
        slot = self._find(customer_id)
        ordinal = self._slots[slot]
        if ordinal < 0:
            return None
        old = self.get(ordinal)
        assert old is not None
        self._slots[slot] = GONE
        self._garbage += self._lengths[ordinal]
        self._lengths[ordinal] = 0
        self._free.append(ordinal)
        self._count -= 1
        return ordinal, old

    def _new_ordinal(self) -> int:
        if self._free:
            return self._free.pop()
        self._offsets.append(0)
        self._lengths.append(0)
        self.rank_keys.append(0)
        self.initials.append(0)
        self.local_digests.append(0)
        return len(self._offsets) - 1

    def _rehash(self, size: int) -> None:
        self._slots = array("i", [EMPTY]) * size
        self._used = 0
        mask = size - 1
        for ordinal in range(len(self._offsets)):
            packed = self.get(ordinal)
            if packed is None:
                continue
            slot = zlib.crc32(packed.id.encode()) & mask
            while self._slots[slot] != EMPTY:
                slot = (slot + 1) & mask
            self._slots[slot] = ordinal
            self._used += 1

    def _compact_if_wasteful(self) -> None:
        """Entries replaced or deleted leave their bytes behind; copy the live ones to a new
        pool when the dead outweigh them."""
        if self._garbage < 1 << 20 or self._garbage * 2 < len(self._pool):
            return
        pool = bytearray()
        for ordinal in range(len(self._offsets)):
            length = self._lengths[ordinal]
            if length:
                start = self._offsets[ordinal]
                self._offsets[ordinal] = len(pool)
                pool += self._pool[start : start + length]
        self._pool, self._garbage = pool, 0

    def memory(self) -> dict[str, int]:
        return {
            "entries": sys.getsizeof(self._pool)
            + sys.getsizeof(self._offsets)
            + sys.getsizeof(self._lengths),
            "id_table": sys.getsizeof(self._slots) + 8 * len(self._free),
            "rank_keys": sys.getsizeof(self.rank_keys),
            "initials": sys.getsizeof(self.initials),
            "local_digests": sys.getsizeof(self.local_digests),
        }
