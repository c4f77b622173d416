"""Runtime settings, read from the environment by `create_app`/`main` only."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec


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
    max_body_bytes: int = 1_000_000
    key_cache_seconds: float = 2.0
    """How long a verified API key is trusted without asking Redis again (bounds revocation lag)."""
    notes_on_card: int = 10
    log_level: str = "info"
    allergens_file: Path | None = None
    """A business's own allergen groups and diets, merged into the packaged table
    (docs/ALLERGENS.md)."""
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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        base = cls()
        return cls(
            redis_url=env.get("PREFSTORE_REDIS_URL") or None,
            data_dir=Path(env.get("PREFSTORE_DATA_DIR", str(base.data_dir))),
            key_prefix=env.get("PREFSTORE_KEY_PREFIX", base.key_prefix),
            default_region=env.get("PREFSTORE_DEFAULT_REGION", base.default_region).upper(),
            host=env.get("PREFSTORE_HOST", base.host),
            port=int(env.get("PREFSTORE_PORT", base.port)),
            redis_timeout=float(env.get("PREFSTORE_REDIS_TIMEOUT", base.redis_timeout)),
            max_body_bytes=int(env.get("PREFSTORE_MAX_BODY_BYTES", base.max_body_bytes)),
            key_cache_seconds=float(env.get("PREFSTORE_KEY_CACHE_SECONDS", base.key_cache_seconds)),
            notes_on_card=int(env.get("PREFSTORE_NOTES_ON_CARD", base.notes_on_card)),
            log_level=env.get("PREFSTORE_LOG_LEVEL", base.log_level),
            allergens_file=Path(env["PREFSTORE_ALLERGENS_FILE"])
            if env.get("PREFSTORE_ALLERGENS_FILE")
            else None,
            session_secret=env.get("PREFSTORE_SESSION_SECRET") or None,
            session_seconds=int(env.get("PREFSTORE_SESSION_SECONDS", base.session_seconds)),
            cookie_secure=env.get("PREFSTORE_COOKIE_SECURE", "").lower() in ("1", "true", "yes"),
            erasure_rewrite_seconds=float(
                env.get("PREFSTORE_ERASURE_REWRITE_SECONDS", base.erasure_rewrite_seconds)
            ),
            erasure_receipt_days=int(
                env.get("PREFSTORE_ERASURE_RECEIPT_DAYS", base.erasure_receipt_days)
            ),
            rate_limit_per_key=int(
                env.get("PREFSTORE_RATE_LIMIT_PER_KEY", base.rate_limit_per_key)
            ),
            auth_failures_per_address=int(
                env.get("PREFSTORE_AUTH_FAILURES_PER_ADDRESS", base.auth_failures_per_address)
            ),
            rate_limit_window=int(env.get("PREFSTORE_RATE_LIMIT_WINDOW", base.rate_limit_window)),
            near_cache=int(env.get("PREFSTORE_NEAR_CACHE", base.near_cache)),
            near_cache_mb=int(env.get("PREFSTORE_NEAR_CACHE_MB", base.near_cache_mb)),
            near_cache_seconds=float(
                env.get("PREFSTORE_NEAR_CACHE_SECONDS", base.near_cache_seconds)
            ),
        )
