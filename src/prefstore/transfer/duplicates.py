"""Dry-run duplicate hints: would-be new customers that look like existing ones.

Two people are flagged when they share a partial identifier (the last four digits of a
phone, or an email's local part) and their names are close: rapidfuzz token-sort ratio over
folded names, in Latin letters too ("Olga Smirnova" beside "Ольга Смирнова"), a nickname
standing for the name it shortens ("Peggy Whitfield" beside "Margaret Whitfield";
`customers/names.py`).
The partial-identifier table is built from one SCAN of the store: its memory grows with the
number of existing customers, so only a dry run builds it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from redis.asyncio import Redis

from prefstore.customers.names import Nicknames, default_nicknames, name_similarity
from prefstore.models.records import CustomerRecord
from prefstore.models.results import DuplicateCandidate
from prefstore.redis.connection import as_bytes, translated_errors
from prefstore.redis.keyspace import KeySpace, decode_record
from prefstore.transfer.rows import Incoming

NAME_THRESHOLD = 85.0
SCAN_COUNT = 1000


def _tokens(emails: list[str], phones: list[str]) -> dict[str, str]:
    """Partial identifier -> how to show it (masked)."""
    found = {f"p:{p[-4:]}": f"phone …{p[-4:]}" for p in phones if len(p) >= 4}
    for e in emails:
        local = e.partition("@")[0]
        if len(local) >= 3:
            found[f"e:{local}"] = f"email {local[:2]}…@"
    return found


class DuplicateFinder:
    def __init__(self, nicknames: Nicknames | None = None) -> None:
        self._by_token: dict[str, list[int]] = defaultdict(list)
        self._people: list[tuple[str, str]] = []
        self._nicknames = nicknames or default_nicknames()

    @classmethod
    async def load(
        cls, redis: Redis, keys: KeySpace, nicknames: Nicknames | None = None
    ) -> DuplicateFinder:
        finder = cls(nicknames)
        batch: list[bytes] = []
        async with translated_errors():
            async for key in redis.scan_iter(match=keys.record_pattern(), count=SCAN_COUNT):
                batch.append(as_bytes(key))
                if len(batch) >= SCAN_COUNT:
                    finder._add(await redis.mget(batch))
                    batch = []
            if batch:
                finder._add(await redis.mget(batch))
        return finder

    def _add(self, raws: Sequence[object]) -> None:
        for raw in raws:
            if raw is None:
                continue
            record: CustomerRecord = decode_record(as_bytes(raw))
            self._people.append((record.id, record.name))
            for token in _tokens(record.emails, record.phones):
                self._by_token[token].append(len(self._people) - 1)

    def check(self, row: Incoming) -> DuplicateCandidate | None:
        if not row.name:
            return None
        best: DuplicateCandidate | None = None
        for token, shown in _tokens(row.emails, row.phones).items():
            for index in self._by_token.get(token, []):
                customer_id, name = self._people[index]
                score = name_similarity(row.name, name, self._nicknames)
                if score >= NAME_THRESHOLD and (best is None or score > best.score):
                    best = DuplicateCandidate(
                        line=row.line,
                        name=row.name,
                        customer_id=customer_id,
                        existing_name=name,
                        score=round(score, 1),
                        matched_on=shown,
                    )
        return best
