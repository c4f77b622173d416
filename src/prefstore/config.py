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
        )
