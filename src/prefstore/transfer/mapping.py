"""Which input column feeds which part of a customer: presets, mapping files, `--column`.

A target is one of:
  id, crm_id, name, first_name, last_name, email, phone, tags, notes[:all|staff],
  allergies[:dietary|intolerance|allergy|severe], likes[:category], dislikes[:category],
  identifier:<kind>, date:<kind>, created_at, events (NDJSON only), follow_up[:all|staff],
  consent:<channel>, opt_out:<channel> (channel: email, sms, phone, post), consent_at, ignore.
Column names match case-insensitively, with runs of spaces collapsed.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, get_args

from prefstore.errors import InvalidInput
from prefstore.models.fields import Category, Severity, Visibility
from prefstore.models.records import CHANNELS

SIMPLE_TARGETS = frozenset(
    {
        "id",
        "crm_id",
        "name",
        "first_name",
        "last_name",
        "email",
        "phone",
        "tags",
        "created_at",
        "events",
        "consent_at",
        "ignore",
    }
)
QUALIFIERS: dict[str, tuple[str, ...]] = {
    "allergies": get_args(Severity),
    "likes": get_args(Category),
    "dislikes": get_args(Category),
    "notes": get_args(Visibility),
    "follow_up": get_args(Visibility),
}
CHANNEL_TARGETS = ("consent", "opt_out")
"""Targets that need a channel: `consent:email`, `opt_out:phone`, …"""
_KIND = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
REJECT_COLUMNS = frozenset({"_line", "_field", "_reason", "_reject"})
"""Columns a rejects file adds: ignored when it is imported again."""


def column_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def check_target(target: str, where: str) -> str:
    """Validate a target; raises InvalidInput naming `where` (the mapping entry)."""
    target = target.strip()
    if target in SIMPLE_TARGETS:
        return target
    base, _, qualifier = target.partition(":")
    if base in CHANNEL_TARGETS and qualifier in CHANNELS:
        return target
    if base in QUALIFIERS and (not qualifier or qualifier in QUALIFIERS[base]):
        return target
    if base in ("identifier", "date") and _KIND.match(qualifier):
        if base == "identifier" and qualifier in ("email", "phone", "id"):
            raise InvalidInput(where, f"use the '{qualifier}' target, not identifier:{qualifier}")
        return target
    known = [*SIMPLE_TARGETS, *(f"{b}:{q}" for b, qs in QUALIFIERS.items() for q in qs)]
    known += [f"{b}:{c}" for b in CHANNEL_TARGETS for c in CHANNELS]
    raise InvalidInput(where, f"unknown target {target!r}{_did_you_mean(target, known)}")


def _did_you_mean(given: str, known: list[str]) -> str:
    """ "; did you mean 'hubspot'?" for a close miss (difflib), else where the list is."""
    close = difflib.get_close_matches(given.strip().lower(), known, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else " (see docs/IMPORT.md)"


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    columns: dict[str, str]
    """column_key -> target."""


def _load_presets() -> dict[str, Preset]:
    text = resources.files("prefstore").joinpath("data/import_presets.json").read_text("utf-8")
    raw: dict[str, Any] = json.loads(text)
    common = {column_key(k): v for k, v in raw["common"].items()}
    presets = {}
    for name, spec in raw["presets"].items():
        columns = dict(common)
        columns.update({column_key(k): v for k, v in spec["columns"].items()})
        presets[name] = Preset(name, spec["description"], columns)
    return presets


PRESETS = _load_presets()


@dataclass
class Mapping:
    """A preset plus explicit column mappings (which win)."""

    preset: str = "auto"
    columns: dict[str, str] = field(default_factory=dict)
    """column_key -> target, from a mapping file or `--column`."""

    @classmethod
    def build(
        cls, preset: str = "auto", map_file: Path | None = None, pairs: tuple[str, ...] = ()
    ) -> Mapping:
        mapping = cls(preset=preset)
        if map_file is not None:
            mapping.merge_file(map_file)
        for pair in pairs:
            column, sep, target = pair.partition("=")
            if not sep or not column.strip():
                raise InvalidInput("column", f"{pair!r}: expected COLUMN=TARGET")
            mapping.columns[column_key(column)] = check_target(target, f"column {column!r}")
        if mapping.preset != "auto" and mapping.preset not in PRESETS:
            names = ["auto", *PRESETS]
            hint = _did_you_mean(mapping.preset, names).removesuffix(" (see docs/IMPORT.md)")
            raise InvalidInput(
                "preset", f"unknown preset {mapping.preset!r}{hint} (one of {', '.join(names)})"
            )
        return mapping

    def merge_file(self, path: Path) -> None:
        """A mapping file: `{"preset": "hubspot", "columns": {"Fav drink": "likes:beverage"}}`."""
        try:
            raw = json.loads(path.read_text("utf-8-sig"))  # a BOM, as Windows editors write
        except OSError as exc:
            raise InvalidInput("map", f"cannot read mapping file {path}: {exc.strerror}") from None
        except ValueError as exc:  # the JSON error says the line and column
            raise InvalidInput("map", f"mapping file {path} is not valid JSON: {exc}") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("columns", {}), dict):
            raise InvalidInput("map", 'expected {"preset": ..., "columns": {COLUMN: TARGET}}')
        unknown = set(raw) - {"preset", "columns", "description"}
        if unknown:
            raise InvalidInput("map", f"unknown keys {sorted(unknown)}")
        if "preset" in raw and self.preset == "auto":
            self.preset = str(raw["preset"])
        for column, target in raw.get("columns", {}).items():
            self.columns[column_key(column)] = check_target(str(target), f"map.columns.{column}")

    def resolve(self, header: list[str]) -> ResolvedMapping:
        """Bind to the input's columns: picks the preset when `auto`, lists unknown columns."""
        keys = [column_key(h) for h in header]
        preset = self.preset
        if preset == "auto":
            preset = max(PRESETS, key=lambda p: sum(k in PRESETS[p].columns for k in keys))
        table = dict(PRESETS[preset].columns)
        table.update(self.columns)
        targets: list[tuple[int, str, str]] = []
        unknown: list[str] = []
        for index, (name, key) in enumerate(zip(header, keys, strict=True)):
            target = table.get(key)
            if target is None:
                if key not in REJECT_COLUMNS and name.strip():
                    unknown.append(name)
            elif target != "ignore":
                targets.append((index, target, name))
        return ResolvedMapping(preset, targets, unknown, header)


@dataclass(frozen=True)
class ResolvedMapping:
    preset: str
    targets: list[tuple[int, str, str]]
    """(column index, target, column name) for every imported column."""
    unknown: list[str]
    header: list[str]
