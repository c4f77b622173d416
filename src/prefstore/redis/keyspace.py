"""The Redis key layout, in one place.

Every key of one customer carries the hash tag `{c:<id>}` so a customer's write touches one
slot (one Redis or one Cluster shard). Identifier index keys map a digest of a normalised
identifier to the customer id; they live in their own slots.
"""

from __future__ import annotations

import hashlib

CARD_FIELD_VERSION = b"v"
CARD_FIELD_TOUCHPOINT = b"all"
"""Card view without staff-only notes (lookup-scoped keys, e.g. a POS)."""
CARD_FIELD_STAFF = b"staff"
"""Card view with every note (write/admin keys)."""


def identifier_digest(kind: str, value: str) -> str:
    """A short stable digest of a normalised identifier, used in index key names so the
    keyspace itself never lists emails or phone numbers."""
    return hashlib.blake2b(f"{kind}\x00{value}".encode(), digest_size=16).hexdigest()


class KeySpace:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def _customer(self, customer_id: str, part: str) -> str:
        return f"{self.prefix}{{c:{customer_id}}}:{part}"

    def record(self, customer_id: str) -> str:
        """msgpack of the CustomerRecord: the source of truth the cards are rendered from."""
        return self._customer(customer_id, "rec")

    def card(self, customer_id: str) -> str:
        """Hash: version and the pre-rendered JSON card views."""
        return self._customer(customer_id, "card")

    def events(self, customer_id: str) -> str:
        """Sorted set of msgpack events scored by time (ms)."""
        return self._customer(customer_id, "ev")

    def operations(self, customer_id: str) -> str:
        """Set of operation ids already recorded for this customer."""
        return self._customer(customer_id, "ops")

    def customer_keys(self, customer_id: str) -> list[str]:
        return [
            self.record(customer_id),
            self.card(customer_id),
            self.events(customer_id),
            self.operations(customer_id),
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

    def api_key(self, key_id: str) -> str:
        return f"{self.prefix}apikey:{key_id}"

    @property
    def api_key_index(self) -> str:
        return f"{self.prefix}apikeys"
