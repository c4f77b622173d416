"""Runtime settings, read from the environment by `create_app`/`main` only."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, TypeVar

import msgspec

from prefstore.errors import ConfigError

_N = TypeVar("_N", int, float)
VENUE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
"""A venue's name (`models.fields.VenueName`): a slug, so it is safe in a key or a URL."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    redis_url: str | None = None
    """None means: start the embedded redis-server in `data_dir`."""
    data_dir: Path = Path(".prefstore")
    key_prefix: str = "ps:"
    default_region: str = "US"
    host: str = "127.0.0.1"
    port: int = 8000
    redis_timeout: float = 0.5
    """Socket and connect timeout (seconds) for every Redis call: a dead Redis costs a 503 fast."""
    redis_wait_seconds: float = 30.0
    """How long `prefstore serve` waits for a Redis that is starting (or not up yet) before it
    gives up; it logs each attempt. The other commands try once."""
    max_body_bytes: int = 1_000_000
    key_cache_seconds: float = 2.0
    """How long a verified API key is trusted without asking Redis again (bounds revocation lag)."""
    notes_on_card: int = 10
    log_level: str = "info"
    log_format: Literal["text", "json"] = "text"
    """Log lines as text, or as one JSON object each (docs/OPERATIONS.md)."""
    access_log: bool = False
    """One log line per request: method, route template, status, duration, request id and
    key id — never the path as sent nor its query string (lookups carry phones and emails)."""
    cors_origins: tuple[str, ...] = ()
    """Origins browser-based apps may call the API from (`*` matches any part, e.g.
    `https://*.example.com`); none, the default: no CORS headers at all."""
    allergens_file: Path | None = None
    """A business's own allergen groups and diets, merged into the packaged table
    (docs/ALLERGENS.md)."""
    nicknames_file: Path | None = None
    """Nicknames this deployment adds to the built-in table (search and duplicate hints): a
    CSV of `name,nickname` lines."""
    session_secret: str | None = None
    """Signs the web page's CSRF tokens; None: a random one per process (set it when several
    processes serve the page)."""
    session_seconds: int = 8 * 3600
    """A staff sign-in on the web page lasts this long at most; then staff sign in again."""
    cookie_secure: bool = False
    """Mark the page's cookies Secure (serve the page over HTTPS, then set this)."""
    erasure_rewrite_seconds: float = 900.0
    """The bound on an erasure reaching the disk: Redis rewrites its AOF (batched: erasures
    of the same half-bound share one rewrite), snapshots its RDB where one is configured and
    resets its slow log within this many seconds of the erasure."""
    erasure_receipt_days: int = 90
    """How long an erasure receipt (times of each step, no PII) is kept."""
    rate_limit_per_key: int = 1200
    """Requests one API key may make per `rate_limit_window` (every route; 0: no limit).
    Counted in Redis, so every process serving the same Redis shares the count."""
    auth_failures_per_address: int = 60
    """Failed authentications (unknown, revoked or malformed keys) one client address may
    make per `rate_limit_window` before it gets 429 without its key being checked (0: off)."""
    rate_limit_window: int = 60
    """Length in seconds of the fixed windows both rate limits count in."""
    near_cache: int = 0
    """Cards (per view) a process keeps in its near-cache for lookups by id (0: off, the
    default: no gain at 64 connections, docs/BENCHMARKS.md). Redis reports changes to them
    (client tracking); see `near_cache_seconds`."""
    near_cache_mb: int = 64
    """The near-cache's bound in card bytes (MiB), beside its bound in entries."""
    near_cache_seconds: float = 1.0
    """No card older than this is served from the near-cache, even if Redis's change reports
    are lost (normally a change reaches it in the time one message takes)."""
    venues: tuple[str, ...] = ()
    """The deployment's venues (`PREFSTORE_VENUES=soho,camden`): keys are bound to one of
    these and writes name one of these. Empty, the default: any venue name of the form
    `VenueName` is accepted (a deployment that has not listed its venues)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings `PREFSTORE_*` variables give; ConfigError names a variable whose value
        is not acceptable and the form expected (an empty one is as if unset)."""
        try:
            return cls._read(os.environ if env is None else env)
        except ValueError as exc:  # a reader's own message names its variable
            named = re.match(r"PREFSTORE_\w+", str(exc))
            raise ConfigError(str(exc), named[0] if named else None) from None

    @classmethod
    def _read(cls, env: Mapping[str, str]) -> Settings:
        base = cls()
        return cls(
            redis_url=_redis_url(env),
            data_dir=Path(env.get("PREFSTORE_DATA_DIR", str(base.data_dir))),
            key_prefix=env.get("PREFSTORE_KEY_PREFIX", base.key_prefix),
            default_region=_region(env, base.default_region),
            host=env.get("PREFSTORE_HOST", base.host),
            port=_number(env, "PREFSTORE_PORT", base.port, 1, 65535),
            redis_timeout=_number(env, "PREFSTORE_REDIS_TIMEOUT", base.redis_timeout, 0.001),
            redis_wait_seconds=_number(
                env, "PREFSTORE_REDIS_WAIT_SECONDS", base.redis_wait_seconds
            ),
            max_body_bytes=_number(env, "PREFSTORE_MAX_BODY_BYTES", base.max_body_bytes, 1),
            key_cache_seconds=_number(env, "PREFSTORE_KEY_CACHE_SECONDS", base.key_cache_seconds),
            notes_on_card=_number(env, "PREFSTORE_NOTES_ON_CARD", base.notes_on_card),
            log_level=_log_level(env, base.log_level),
            log_format=_log_format(env.get("PREFSTORE_LOG_FORMAT", base.log_format)),
            access_log=_flag(env, "PREFSTORE_ACCESS_LOG"),
            cors_origins=tuple(
                o.strip() for o in env.get("PREFSTORE_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            allergens_file=Path(env["PREFSTORE_ALLERGENS_FILE"])
            if env.get("PREFSTORE_ALLERGENS_FILE")
            else None,
            nicknames_file=Path(env["PREFSTORE_NICKNAMES_FILE"])
            if env.get("PREFSTORE_NICKNAMES_FILE")
            else None,
            session_secret=env.get("PREFSTORE_SESSION_SECRET") or None,
            session_seconds=_number(env, "PREFSTORE_SESSION_SECONDS", base.session_seconds, 1),
            cookie_secure=_flag(env, "PREFSTORE_COOKIE_SECURE"),
            erasure_rewrite_seconds=_number(
                env, "PREFSTORE_ERASURE_REWRITE_SECONDS", base.erasure_rewrite_seconds, 0.001
            ),
            erasure_receipt_days=_number(
                env, "PREFSTORE_ERASURE_RECEIPT_DAYS", base.erasure_receipt_days, 1
            ),
            rate_limit_per_key=_number(
                env, "PREFSTORE_RATE_LIMIT_PER_KEY", base.rate_limit_per_key
            ),
            auth_failures_per_address=_number(
                env, "PREFSTORE_AUTH_FAILURES_PER_ADDRESS", base.auth_failures_per_address
            ),
            rate_limit_window=_number(
                env, "PREFSTORE_RATE_LIMIT_WINDOW", base.rate_limit_window, 1
            ),
            near_cache=_number(env, "PREFSTORE_NEAR_CACHE", base.near_cache),
            near_cache_mb=_number(env, "PREFSTORE_NEAR_CACHE_MB", base.near_cache_mb, 1),
            near_cache_seconds=_number(
                env, "PREFSTORE_NEAR_CACHE_SECONDS", base.near_cache_seconds
            ),
            venues=_venues(env.get("PREFSTORE_VENUES", "")),
        )


def _number(
    env: Mapping[str, str], name: str, default: _N, low: _N | None = None, high: _N | None = None
) -> _N:
    """An integer (a number, for a float `default`) in [`low` (0 unless given), `high`]."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    low = type(default)(0) if low is None else low
    try:
        value = type(default)(raw)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < low or (high and value > high):
        kind = "an integer" if isinstance(default, int) else "a number"
        bounds = f"from {low} to {high}" if high else f"of at least {low}"
        raise ConfigError(f"{name}={raw!r}: expected {kind} {bounds} (default {default})", name)
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name}={raw!r}: expected true or false (1/0, yes/no, on/off)", name)


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("PREFSTORE_REDIS_URL", "").strip()
    if raw and not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(
            "PREFSTORE_REDIS_URL: expected redis://[[user]:password@]host[:port][/db], "
            "rediss://… (TLS) or unix:///path/to/socket; unset: the embedded Redis",
            "PREFSTORE_REDIS_URL",
        )
    return raw or None


def _region(env: Mapping[str, str], default: str) -> str:
    raw = env.get("PREFSTORE_DEFAULT_REGION", "").strip()
    if raw and not re.fullmatch(r"[A-Za-z]{2}", raw):
        raise ConfigError(
            f"PREFSTORE_DEFAULT_REGION={raw!r}: expected a two-letter country code (e.g. US, GB)",
            "PREFSTORE_DEFAULT_REGION",
        )
    return raw.upper() or default


def _log_level(env: Mapping[str, str], default: str) -> str:
    raw = env.get("PREFSTORE_LOG_LEVEL", "").strip().lower()
    if raw and raw not in ("critical", "error", "warning", "info", "debug"):
        raise ConfigError(
            f"PREFSTORE_LOG_LEVEL={raw!r}: expected critical, error, warning, info or debug",
            "PREFSTORE_LOG_LEVEL",
        )
    return raw or default


def _log_format(value: str) -> Literal["text", "json"]:
    value = value.strip().lower()
    if value == "json":
        return "json"
    if value == "text":
        return "text"
    raise ValueError(f"PREFSTORE_LOG_FORMAT must be text or json, not {value!r}")


def _venues(value: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    bad = [n for n in names if not re.fullmatch(VENUE_PATTERN, n)]
    if bad:
        raise ValueError(
            f"PREFSTORE_VENUES: {', '.join(bad)}: a venue is 1-40 lower-case letters, digits, "
            "'-' or '_'"
        )
    return names
