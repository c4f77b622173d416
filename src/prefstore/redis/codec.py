"""How records, events and change entries are encoded in Redis (msgpack), in one place.

Both write paths (the store's transactions and the importer's batches) and every reader
(search follower, export, duplicate hints) use these, so the bytes are the same whoever
wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from prefstore.models import ChangeEntry, CustomerRecord, Event
from prefstore.redis.connection import as_text, bytes_dict

ENTRY_FIELD = b"e"
"""The one field of a change-feed stream entry: the msgpack `ChangeEntry`."""

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
