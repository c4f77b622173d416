"""Logging: text or JSON lines (`PREFSTORE_LOG_FORMAT`), the request id on every record made
while a request is served, and the access log (`PREFSTORE_ACCESS_LOG`).

The request id is stamped on each record when it is made (a log-record factory), not by a
handler's filter: Litestar's handlers hand records to a queue that a thread formats, where
the request's context is gone. Records made outside a request have no id (`-` in text,
`null` in JSON).
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from litestar.logging import LoggingConfig
from pythonjsonlogger.core import RESERVED_ATTRS

from prefstore.config import Settings

ACCESS_LOGGER = "prefstore.access"
REQUEST_ID: ContextVar[bytes | None] = ContextVar("prefstore_request_id", default=None)
"""The id of the request being served (set by `http/requestid.py` and `http/fast.py`)."""

TEXT = {
    "()": "logging.Formatter",
    "fmt": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
    "defaults": {"request_id": "-"},
}
JSON = {
    "()": "pythonjsonlogger.json.JsonFormatter",
    "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
    "rename_fields": {"levelname": "level", "name": "logger"},
    "timestamp": True,
    # Not fields of a line: Python 3.12's task name, uvicorn's coloured copy of the message.
    "reserved_attrs": [*RESERVED_ATTRS, "taskName", "color_message"],
}
"""One object per line: `timestamp` (ISO 8601, UTC), `level`, `logger`, `message`,
`request_id`, and the record's own fields (the access log's `method`, `route`, …)."""


def logging_config(settings: Settings) -> LoggingConfig:
    """Litestar's logging configuration for these settings (applied when the app is built)."""
    _stamp_request_ids()
    return LoggingConfig(
        root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
        formatters={"standard": JSON if settings.log_format == "json" else TEXT},
        # The access log is asked for explicitly: it is written whatever PREFSTORE_LOG_LEVEL.
        loggers={ACCESS_LOGGER: {"level": "INFO", "propagate": True}},
        log_exceptions="debug",
    )


def _stamp_request_ids() -> None:
    """Every record made from now on carries `request_id` when a request is being served
    (installed once per process, over whatever factory is in place)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_ids", False):
        return

    def made(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        found = REQUEST_ID.get()
        if found is not None:
            record.request_id = found.decode("latin-1")
        return record

    made.stamps_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(made)


class AccessLog:
    """One INFO line per request on `prefstore.access`: method, route template, status,
    duration, the key's id. Never the path as sent nor its query string (lookups carry
    phones and emails there), never the key itself, nothing else about the caller (no
    address, no user agent): the line holds no personal data."""

    def __init__(self) -> None:
        self._log = logging.getLogger(ACCESS_LOGGER)

    def record(
        self, method: str, route: str | None, status: int, seconds: float, key_id: str | None
    ) -> None:
        ms = round(seconds * 1000, 2)
        fields = {
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": ms,
            "key_id": key_id,
        }
        shown = (method, route or "-", status, ms, key_id or "-")
        self._log.info("%s %s %d %.2f ms key=%s", *shown, extra=fields)
