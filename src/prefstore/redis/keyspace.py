"""The storage layout, in one place: what is stored under which key, and how it is encoded.

Every key of one customer carries the hash tag `{c:<id>}` so a customer's write touches one
slot (one Redis or one Cluster shard). Identifier index keys map a digest of a normalised
identifier to the customer id; they live in their own slots. The suppression set holds keyed
hashes of an erased person's identifiers, never the values.

Records, events and change-feed entries are msgpack. Both write paths (the store's
transactions and the importer's batches) and every reader (search follower, export,
duplicate hints) use the encoders here, so the bytes are the same whoever wrote them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import msgspec

from prefstore.models.records import ChangeEntry, CustomerRecord, Event
from prefstore.redis.connection import as_text, bytes_dict

CARD_FIELD_VERSION = b"v"
CARD_FIELD_TOUCHPOINT = b"tp"
"""Card view without staff-only notes, phones and emails masked (`lookup` keys, e.g. a POS).
Cards stored before it existed lack it (`customers/card_upgrade.py`)."""
CARD_FIELD_CONTACT = b"all"
"""Card view without staff-only notes, phones and emails in full (`contact` keys). The field
name is the one the touchpoint view had before masking: its bytes were this view."""
CARD_FIELD_STAFF = b"staff"
"""Card view with every note and contact detail (write/admin keys)."""
ENTRY_FIELD = b"e"
"""The one field of a change-feed stream entry: the msgpack `ChangeEntry`."""


def identifier_digest(kind: str, value: str) -> str:
    """A short stable digest of a normalised identifier, used in index key names so the
    keyspace itself never lists emails or phone numbers."""
    return hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=16).hexdigest()


class KeySpace:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._customer_head = f"{prefix}{{c:"

    def _customer(self, customer_id: str, part: str) -> str:
        return f"{self._customer_head}{customer_id}}}:{part}"

    def record(self, customer_id: str) -> str:
        """msgpack of the CustomerRecord: the source of truth the cards are rendered from."""
        return self._customer(customer_id, "rec")

    def card(self, customer_id: str) -> str:
        """Hash: version and the pre-rendered JSON card views."""
        return self._customer(customer_id, "card")

    def card_key_around_id(self) -> tuple[str, str]:
        """(head, tail) with `card(id) == head + id + tail`: for a server-side script that
        finds the customer id itself and must build the card key from it."""
        head, _, tail = self.card("\x00").partition("\x00")
        return head, tail

    def events(self, customer_id: str) -> str:
        """Sorted set of msgpack events scored by time (ms)."""
        return self._customer(customer_id, "ev")

    def operations(self, customer_id: str) -> str:
        """Set of operation ids already recorded for this customer."""
        return self._customer(customer_id, "ops")

    def undo(self, customer_id: str) -> str:
        """Hash: staff key id -> that staff member's last quick entry on this customer, as
        its undo (msgpack). In the customer's slot, so erasure deletes it with the rest."""
        return self._customer(customer_id, "undo")

    def outcomes(self, customer_id: str) -> str:
        """Hash: operation id -> the outcome of that write (msgpack, with the card it
        answered), so a retried write is answered, not applied again. Expires with its
        entries (`customers/idempotency.py`); erasure deletes it with the rest."""
        return self._customer(customer_id, "out")

    def outcome_expiry(self, customer_id: str) -> str:
        """Sorted set: the operation ids of `outcomes`, scored by when each expires (ms)."""
        return self._customer(customer_id, "out:exp")

    def customer_keys(self, customer_id: str) -> list[str]:
        return [
            self.record(customer_id),
            self.card(customer_id),
            self.events(customer_id),
            self.operations(customer_id),
            self.undo(customer_id),
            self.outcomes(customer_id),
            self.outcome_expiry(customer_id),
        ]

    def identifier(self, kind: str, value: str) -> str:
        return f"{self.prefix}idx:{kind}:{identifier_digest(kind, value)}"

    def record_pattern(self) -> str:
        return f"{self.prefix}{{c:*}}:rec"

    def customer_id_from_record_key(self, key: str) -> str:
        start = len(self.prefix) + len("{c:")
        return key[start : key.index("}:rec", start)]

    @property
    def changes(self) -> str:
        """The change feed / audit stream."""
        return f"{self.prefix}changes"

    @property
    def suppressed(self) -> str:
        """Set of keyed hashes of identifiers of erased people."""
        return f"{self.prefix}suppressed"

    @property
    def suppression_salt(self) -> str:
        return f"{self.prefix}meta:suppression-salt"

    def erasure(self, erasure_id: str) -> str:
        """Hash: an erasure's receipt (when each step finished; no PII, no customer id)."""
        return f"{self.prefix}erasure:{erasure_id}"

    @property
    def erasures_pending(self) -> str:
        """Sorted set: erasure ids whose disk steps are still to run, scored by request time
        (ms). Shared by every process; whoever holds `erasures_lock` runs them."""
        return f"{self.prefix}erasures:pending"

    @property
    def erasures_lock(self) -> str:
        return f"{self.prefix}erasures:lock"

    def api_key(self, key_id: str) -> str:
        return f"{self.prefix}apikey:{key_id}"

    @property
    def api_key_index(self) -> str:
        return f"{self.prefix}apikeys"

    def rate_counter(self, policy: str, subject: str, window: int) -> str:
        """Counter of one rate-limit policy for one subject (key id, client address) in one
        fixed window (its index since the epoch); expires after the window."""
        return f"{self.prefix}rl:{policy}:{subject}:{window}"


class MemoKeySpace(KeySpace):
    """A KeySpace that remembers identifier keys: they are digests, and an import batch asks
    for each one several times (the read, the resolution, the conflict check, the write)."""

    MAX_REMEMBERED = 50_000

    def __init__(self, prefix: str) -> None:
        super().__init__(prefix)
        self._identifiers: dict[tuple[str, str], str] = {}

    def identifier(self, kind: str, value: str) -> str:
        found = self._identifiers.get((kind, value))
        if found is None:
            if len(self._identifiers) > self.MAX_REMEMBERED:
                self._identifiers.clear()
            found = self._identifiers[kind, value] = super().identifier(kind, value)
        return found


# ---------------------------------------------------------------- a record's identifiers
def customer_identifiers(
    emails: list[str], phones: list[str], others: dict[str, str]
) -> list[tuple[str, str]]:
    """All (kind, normalised value) pairs of an already-normalised customer."""
    pairs = [("email", e) for e in emails] + [("phone", p) for p in phones]
    pairs += sorted(others.items())
    return pairs


def identifier_keys(keys: KeySpace, record: CustomerRecord) -> dict[str, tuple[str, str]]:
    """Index key -> (kind, normalised value) for every identifier the record claims."""
    pairs = customer_identifiers(record.emails, record.phones, record.identifiers)
    return {keys.identifier(kind, value): (kind, value) for kind, value in pairs}


def suppression_hashes(record: CustomerRecord, salt: bytes) -> list[str]:
    """Keyed hashes of the record's identifiers: what erasure remembers, never the values."""
    pairs = customer_identifiers(record.emails, record.phones, record.identifiers)
    return [
        hmac.new(salt, f"{kind}\x00{value}".encode(), hashlib.sha256).hexdigest()
        for kind, value in pairs
    ]


# ---------------------------------------------------------------- encodings (msgpack)
_encoder = msgspec.msgpack.Encoder()
_record_decoder = msgspec.msgpack.Decoder(CustomerRecord)
_event_decoder = msgspec.msgpack.Decoder(Event)
_entry_decoder = msgspec.msgpack.Decoder(ChangeEntry)


def encode_record(record: CustomerRecord) -> bytes:
    return _encoder.encode(record)


def decode_record(raw: bytes) -> CustomerRecord:
    return _record_decoder.decode(raw)


def event_member(event: Event) -> tuple[bytes, int]:
    """The events sorted-set member (msgpack) and its score."""
    # Whole milliseconds: the paging cursor carries the score as an integer.
    score = int(event.at.timestamp() * 1000) if event.at else 0
    return _encoder.encode(event), score


def decode_event(raw: bytes) -> Event:
    return _event_decoder.decode(raw)


def encode_entry(entry: ChangeEntry) -> dict[Any, Any]:
    return {ENTRY_FIELD: _encoder.encode(entry)}


def decode_entries(raw: Sequence[Any]) -> list[tuple[str, ChangeEntry]]:
    """Stream entries as redis-py returns them: (id, {field: value})."""
    return [
        (as_text(entry_id), _entry_decoder.decode(bytes_dict(fields)[ENTRY_FIELD]))
        for entry_id, fields in raw
    ]
