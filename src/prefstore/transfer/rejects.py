"""The rejects file: the input's own format plus where and why, ready to fix and re-import.

CSV: the original columns, then `_line`, `_field`, `_reason`. NDJSON: the original object
with a `_reject` member. The importer ignores these extra columns when the file comes back.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import IO, Any

import msgspec

from prefstore.models.results import RowRejection


class RejectsFile:
    """Opened on the first rejection only, so a clean import leaves no file behind."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = path
        self.fmt = fmt
        self.count = 0
        self._handle: IO[str] | None = None
        self._csv: Any = None

    def reject(self, line: int, raw: Any, header: list[str] | None, why: RowRejection) -> None:
        if self._handle is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            if self.fmt == "csv":
                self._csv = csv.writer(self._handle)
                self._csv.writerow([*(header or []), "_line", "_field", "_reason"])
        self.count += 1
        if self.fmt == "csv":
            cells = raw if isinstance(raw, list) else [""] * len(header or [])
            width = len(header or [])
            cells = [*cells[:width], *[""] * (width - len(cells))]
            self._csv.writerow([*cells, line, why.field, why.reason])
            return
        obj = {k: v for k, v in raw.items() if k != "_reject"} if isinstance(raw, dict) else {}
        obj["_reject"] = {"line": line, "field": why.field, "reason": why.reason}
        self._handle.write(msgspec.json.encode(obj).decode() + "\n")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def rejects_path(source: Path, fmt: str) -> Path:
    name = source.name.removesuffix(".gz")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return source.with_name(f"{stem}.rejects.{'csv' if fmt == 'csv' else 'ndjson'}")
