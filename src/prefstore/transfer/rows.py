"""One input row -> an `Incoming` customer change, or a `RowRejection` naming the column.

Values are validated by the same msgspec input Structs the API uses (so the same bounds
apply) and normalised by the store's rules; restore lines too (`restore.py`). Nothing here
does I/O.

Linear time on any input: a cell or value longer than `MAX_CELL` characters (a list longer
than `MAX_LIST`) is refused before anything else looks at it, and the only regex left on
cell text is a single character class (`_SEPARATOR`), which cannot backtrack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import msgspec

from prefstore.customers import rules
from prefstore.customers.identifiers import fast_email, fast_phone, normalise_other
from prefstore.errors import InvalidInput
from prefstore.models.fields import explained
from prefstore.models.inputs import (
    AllergyInput,
    CustomerCreate,
    EventInput,
    FollowUpInput,
    NoteInput,
    PreferenceInput,
)
from prefstore.models.records import ChannelConsent, CustomerRecord, Event
from prefstore.transfer import restore
from prefstore.transfer.mapping import ResolvedMapping
from prefstore.transfer.row_extras import EXTRA_TARGETS, RowExtras

# `\s*[;|,]\s*` was quadratic on a run of spaces with no separator ("a" + 20,000 spaces +
# "b": 7.5 s); splitting on the separator alone and stripping the parts is linear.
_SEPARATOR = re.compile(r"[;|,]")
_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`")
MAX_CELL = 20_000
"""Characters in one cell: a 4,000-character note, or a list of items, with room to spare."""
MAX_LIST = 500
"""Values in one NDJSON list (tags, allergies, …); the record limits are far below."""
MAX_ROW_EVENTS = 1000
_SEVERITIES = frozenset({"dietary", "intolerance", "allergy", "severe"})
_events_type = list[EventInput]
_LIST_TARGETS = {
    "email": "emails",
    "phone": "phones",
    "tags": "tags",
    "allergies": "allergies",
    "likes": "preferences",
    "dislikes": "preferences",
}
"""Targets that take several values, and the `CustomerCreate` field they fill."""
_ELEMENT_REASONS = {"phones": "not a valid phone number", "emails": "not a valid email address"}
"""What a bad phone or email says, rather than msgspec's "Expected `str` of length >= 3"."""


@dataclass(slots=True)
class Incoming:
    """A row, validated and normalised, not yet matched to a customer."""

    line: int
    raw: Any
    """The row as read (list of cells or NDJSON object), for the rejects file."""
    id: str | None = None
    crm_id: str | None = None
    """The CRM id as given (case kept): a new customer's id when it is a valid one."""
    name: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    identifiers: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    dates: dict[str, date] = field(default_factory=dict)
    allergies: list[AllergyInput] = field(default_factory=list)
    preferences: list[PreferenceInput] = field(default_factory=list)
    notes: list[NoteInput] = field(default_factory=list)
    events: list[EventInput] = field(default_factory=list)
    follow_ups: list[FollowUpInput] = field(default_factory=list)
    consent: dict[str, ChannelConsent] = field(default_factory=dict)
    """Channel -> what the row states (`row_extras.py`), put by `rules.put_consent`."""
    created_at: datetime | None = None
    restore: CustomerRecord | None = None
    """A whole record from `prefstore export` (then `restore_events` are its events)."""
    restore_events: list[Event] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    """Record field -> the input column it came from, to name it in a rejection."""
    match_keys: list[tuple[str, str]] = field(default_factory=list)
    """(kind, value) to find the existing customer by, in order of trust: computed once, at
    conversion (`matched_on`), from the identifiers above."""


def matched_on(
    emails: list[str], phones: list[str], identifiers: dict[str, str]
) -> list[tuple[str, str]]:
    """A row's match keys: its CRM id, then emails, phones and other identifiers."""
    pairs: list[tuple[str, str]] = []
    if "crm" in identifiers:
        pairs.append(("crm", identifiers["crm"]))
    pairs += [("email", e) for e in emails] + [("phone", p) for p in phones]
    pairs += sorted((k, v) for k, v in identifiers.items() if k != "crm")
    return pairs


class _Collect:
    """Gathers a mapped row into the shape of `CustomerCreate` (plus import-only parts)."""

    def __init__(self, preset: str = "prefstore") -> None:
        self.preset = preset
        self.extras: RowExtras | None = None
        """Follow-ups and consent, made for the rows that have them."""
        self.data: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.first = ""
        self.last = ""
        self.crm: str | None = None
        self.created_at: datetime | None = None
        self.events: Any = None

    def add(self, key: str, column: str, values: list[Any]) -> None:
        self.data.setdefault(key, []).extend(values)
        self.sources.setdefault(key, column)
        for i in range(len(self.data[key]) - len(values), len(self.data[key])):
            self.sources[f"{key}[{i}]"] = column

    def put(self, target: str, column: str, value: Any) -> None:
        _check_size(value, column)
        base, _, qualifier = target.partition(":")
        if base == "events":
            self.events = value
            self.sources["events"] = column
            return
        if base in _LIST_TARGETS:
            self._add_list(base, qualifier, column, value)
            return
        if base in EXTRA_TARGETS:
            self.extras = self.extras or RowExtras(self.preset)
            self.extras.put(base, qualifier, column, value)
            return
        text = value if isinstance(value, str) else _scalar_text(value, column)
        if base in ("id", "name"):
            self.data[base] = text
            self.sources[base] = column
        elif base == "first_name":
            self.first, self.sources["name"] = text, column
        elif base == "last_name":
            self.last = text
            self.sources.setdefault("name", column)
        elif base == "crm_id":
            self.crm = text
            self.sources["identifiers.crm"] = column
        elif base == "identifier":
            self.data.setdefault("identifiers", {})[qualifier] = text
            self.sources[f"identifiers.{qualifier}"] = column
            self.sources.setdefault("identifiers", column)
        elif base == "date":
            self.data.setdefault("dates", {})[qualifier] = _date_text(text)
            self.sources[f"dates.{qualifier}"] = column
            self.sources.setdefault("dates", column)  # msgspec names a bad value `dates[...]`
        elif base == "notes":
            self.add("notes", column, [{"text": text, "visibility": qualifier or "all"}])
        elif base == "created_at":
            self.created_at = _timestamp(text, column)

    def _add_list(self, base: str, qualifier: str, column: str, value: Any) -> None:
        """A target that takes several values: a list (NDJSON) or one cell split on `;` `,` `|`."""
        if base in ("email", "phone", "tags"):
            self.add(_LIST_TARGETS[base], column, _split(value, column))
        elif base == "allergies":
            items = [_allergy(v, qualifier) for v in _split(value, column)]
            self.add("allergies", column, items)
        else:
            category = qualifier or "other"
            items = [
                {"label": v, "sentiment": base, "category": category, "source": "import"}
                for v in _split(value, column)
            ]
            self.add("preferences", column, items)


def _check_size(value: Any, column: str) -> None:
    """Refuse an oversized value before any parsing looks at it."""
    if isinstance(value, str) and len(value) > MAX_CELL:
        raise InvalidInput(column, f"longer than {MAX_CELL} characters")
    if isinstance(value, list):
        if len(value) > MAX_LIST:
            raise InvalidInput(column, f"more than {MAX_LIST} values")
        for item in value:
            if isinstance(item, str) and len(item) > MAX_CELL:
                raise InvalidInput(column, f"a value longer than {MAX_CELL} characters")


def _scalar_text(value: Any, column: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(column, "expected a string")
    return str(value)


def _split(value: Any, column: str) -> list[str]:
    if isinstance(value, list):
        parts = [(v if isinstance(v, str) else _scalar_text(v, column)).strip() for v in value]
    else:
        text = value if isinstance(value, str) else _scalar_text(value, column)
        parts = [v.strip() for v in _SEPARATOR.split(text)]
    return [v for v in parts if v]


def _excel_text(value: str) -> str:
    """The text of Excel's text-forcing formula `="0123"` (how a spreadsheet keeps a phone's
    or an id's leading zero), its quotes undoubled; any other cell as it is."""
    if len(value) >= 3 and value[1] == '"' and value[-1] == '"':
        return value[2:-1].replace('""', '"').strip()
    return value


def _allergy(text: str, severity: str) -> dict[str, str]:
    """ "Peanuts (severe)" carries its own severity; else the column's, else `allergy`.
    Read with string methods (the regex it replaces backtracked on long runs of spaces)."""
    if text.endswith(")"):
        opening = text.rfind("(")
        qualifier = text[opening + 1 : -1].lower() if opening >= 0 else ""
        if qualifier in _SEVERITIES:
            return {"label": text[:opening].rstrip(), "severity": qualifier}
    return {"label": text, "severity": severity or "allergy"}


def _date_text(text: str) -> str:
    return text[:10] if len(text) > 10 and text[10] in "T " else text


def _timestamp(text: str, column: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace(" UTC", "").strip())
    except ValueError:
        raise InvalidInput(column, "not an ISO 8601 date-time") from None
    return rules.event_time(value, column) or value


def convert(
    line: int, raw: Any, mapping: ResolvedMapping | None, region: str
) -> Incoming | InvalidInput:
    """One row as read -> its change, or the InvalidInput naming the column at fault.

    `raw`: CSV cells, an NDJSON object, or the reader's InvalidInput for a line it could not
    read; `mapping` None: an export line, restored whole."""
    if isinstance(raw, InvalidInput):
        return raw
    try:
        if mapping is None:
            return from_export(line, raw, region)
        if isinstance(raw, dict):
            return from_object(line, raw, mapping, region)
        return from_cells(line, raw, mapping, region)
    except InvalidInput as exc:
        return exc


def from_cells(line: int, cells: list[str], mapping: ResolvedMapping, region: str) -> Incoming:
    """A CSV row (or flat NDJSON row as cells) -> Incoming; raises InvalidInput on bad data."""
    collect = _Collect(mapping.preset)
    for index, target, column in mapping.targets:
        if index < len(cells):
            value = cells[index].strip()
            if value and value[0] == "=":
                value = _excel_text(value)
            if value:
                collect.put(target, column, value)
    return _finish(line, cells, collect, region)


def from_object(line: int, obj: dict[str, Any], mapping: ResolvedMapping, region: str) -> Incoming:
    """A flat NDJSON object mapped by column names (values may be lists)."""
    collect = _Collect(mapping.preset)
    for _index, target, column in mapping.targets:
        value = obj.get(column)
        if value is None or value == "" or value == []:
            continue
        collect.put(target, column, value.strip() if isinstance(value, str) else value)
    return _finish(line, obj, collect, region)


def _validation_field(exc: msgspec.ValidationError, sources: dict[str, str]) -> InvalidInput:
    message = str(exc)
    found = _PATH.search(message)
    path = found["path"].lstrip(".") if found else ""
    reason = _PATH.sub("", message)
    # `allergies[2].label` -> the column of allergies[2], else of allergies, else the path.
    head = path.split(".")[0] if path else "row"
    column = sources.get(head) or sources.get(head.split("[")[0]) or path or "row"
    if "[" in head and head.split("[")[0] in _ELEMENT_REASONS:  # one phone or email
        return InvalidInput(column, _ELEMENT_REASONS[head.split("[")[0]])
    return InvalidInput(column, explained(reason))


def _finish(line: int, raw: Any, collect: _Collect, region: str) -> Incoming:
    data = collect.data
    if collect.first or collect.last:
        data.setdefault("name", f"{collect.first} {collect.last}".strip())
    data.setdefault("name", "-")  # checked below: a name is needed only to create
    has_name = data["name"] != "-"
    try:
        create = msgspec.convert(data, CustomerCreate)
    except msgspec.ValidationError as exc:
        raise _validation_field(exc, collect.sources) from None
    events = _events(collect)
    src = collect.sources
    incoming = Incoming(line=line, raw=raw, sources=src, created_at=collect.created_at)
    incoming.id = create.id
    incoming.crm_id = collect.crm
    incoming.name = create.name.strip() or None if has_name else None
    if has_name and incoming.name is None:
        raise InvalidInput(src.get("name", "name"), "must not be blank")
    incoming.emails = _dedupe(
        [fast_email(e, src.get(f"emails[{i}]", "emails")) for i, e in enumerate(create.emails)]
    )
    incoming.phones = _dedupe(
        [
            fast_phone(p, region, src.get(f"phones[{i}]", "phones"))
            for i, p in enumerate(create.phones)
        ]
    )
    others = dict(create.identifiers)
    if collect.crm is not None:
        others["crm"] = collect.crm
    incoming.identifiers = {
        k: normalise_other(k, v, src.get(f"identifiers.{k}", k)) for k, v in others.items()
    }
    incoming.tags = _dedupe([t.strip().casefold() for t in create.tags])
    incoming.dates = dict(create.dates)
    incoming.allergies = _labelled(create.allergies, "allergies", src)
    incoming.preferences = _labelled(create.preferences, "preferences", src)
    incoming.notes = [n for n in create.notes if n.text.strip()]
    incoming.events = events
    if (extras := collect.extras) is not None:
        incoming.follow_ups, incoming.consent = extras.follow_ups(), extras.consent()
    incoming.match_keys = matched_on(incoming.emails, incoming.phones, incoming.identifiers)
    if not incoming.match_keys and incoming.id is None:
        raise InvalidInput("row", "no CRM id, email, phone or other identifier to match on")
    return incoming


def _events(collect: _Collect) -> list[EventInput]:
    """The row's events, validated as the API's, their times read by the record rules."""
    column = collect.sources.get("events", "events")
    if not collect.events:
        return []
    if isinstance(collect.events, list) and len(collect.events) > MAX_ROW_EVENTS:
        raise InvalidInput(column, f"more than {MAX_ROW_EVENTS} events in one row")
    try:
        events = msgspec.convert(collect.events, _events_type)
    except msgspec.ValidationError as exc:
        found = _PATH.search(str(exc))
        field = f"{column}{found['path'] if found else ''}"
        raise InvalidInput(field, explained(_PATH.sub("", str(exc)))) from None
    for i, event in enumerate(events):
        event.at = rules.event_time(event.at, f"{column}[{i}].at")
    return events


def _labelled(items: list[Any], key: str, sources: dict[str, str]) -> list[Any]:
    for i, item in enumerate(items):
        if not item.label.strip():
            raise InvalidInput(sources.get(f"{key}[{i}]", key), "label must not be blank")
    return items


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


# ---------------------------------------------------------------- restore lines (export)
def from_export(line: int, obj: dict[str, Any], region: str = "US") -> Incoming:
    """A line of `prefstore export`: the whole record and its events, checked as API input
    is (`restore.validated`); authors are set when it is merged (`restore.signed`)."""
    record, events = restore.validated(obj, region, restore.restore_clock())
    return Incoming(
        line=line,
        raw=obj,
        id=record.id,
        name=record.name,
        emails=record.emails,
        phones=record.phones,
        identifiers=record.identifiers,
        restore=record,
        restore_events=events,
        match_keys=matched_on(record.emails, record.phones, record.identifiers),
    )
