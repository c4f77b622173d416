"""A compact multimap from short strings to small integers, for the vocabulary's spelling
tables (every word one deletion away, every metaphone key).

A dict of str → list costs ~130 bytes an entry; this keeps a 64-bit digest and the value in
two sorted numpy arrays (12 bytes an entry), with the entries added since the last merge in
a small dict that is folded in when it grows. The digest is blake2b's, not `hash()`: the
same key finds the same values in every process (`hash()` is salted per process, and a
collision would then add a different word in each).
"""

from __future__ import annotations

import hashlib

import numpy as np
import numpy.typing as npt

MERGE_AT = 50_000
"""Pending entries folded into the sorted arrays once there are this many (or on demand)."""


def digest(key: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(key.encode(), digest_size=8).digest(), "little", signed=True
    )


class Multimap:
    def __init__(self) -> None:
        self._keys: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self._values: npt.NDArray[np.int32] = np.zeros(0, dtype=np.int32)
        self._pending: dict[int, list[int]] = {}
        self._pending_count = 0

    def __len__(self) -> int:
        return len(self._keys) + self._pending_count

    def add(self, key: str, value: int) -> None:
        self._pending.setdefault(digest(key), []).append(value)
        self._pending_count += 1
        if self._pending_count >= MERGE_AT:
            self.merge()

    def merge(self) -> None:
        if not self._pending:
            return
        keys = np.fromiter(
            (k for k, vs in self._pending.items() for _v in vs),
            dtype=np.int64,
            count=self._pending_count,
        )
        values = np.fromiter(
            (v for vs in self._pending.values() for v in vs),
            dtype=np.int32,
            count=self._pending_count,
        )
        all_keys = np.concatenate([self._keys, keys])
        all_values = np.concatenate([self._values, values])
        order = np.lexsort((all_values, all_keys))
        self._keys, self._values = all_keys[order], all_values[order]
        self._pending, self._pending_count = {}, 0

    def get_many(self, keys: list[str]) -> list[int]:
        """Every value filed under any of `keys` (repeats possible), in a stable order."""
        digests = [digest(k) for k in keys]
        found: list[int] = []
        if len(self._keys):
            wanted = np.array(digests, dtype=np.int64)
            starts = np.searchsorted(self._keys, wanted, side="left")
            ends = np.searchsorted(self._keys, wanted, side="right")
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
                if end > start:
                    found += self._values[start:end].tolist()
        for d in digests:
            found += self._pending.get(d, ())
        return found

    @property
    def nbytes(self) -> int:
        pending = sum(64 + 8 * len(vs) for vs in self._pending.values())
        return self._keys.nbytes + self._values.nbytes + pending
