"""The `prefstore` command: serve, keys, import, export."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import click
import msgspec
import uvicorn
import uvloop
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, RedisError
from rich.console import Console
from rich.table import Table

from prefstore.config import Settings
from prefstore.customers.apikeys import ALL_SCOPES
from prefstore.customers.demo import seed_demo
from prefstore.errors import PrefstoreError, Unavailable
from prefstore.http.runtime import install_runtime_tuning
from prefstore.redis.connection import connect
from prefstore.redis.embedded import EmbeddedRedis, EmbeddedRedisError
from prefstore.services import Services

console = Console(stderr=True)
log = logging.getLogger("prefstore.cli")
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@asynccontextmanager
async def redis_session(
    settings: Settings, wait: float = 0.0
) -> AsyncIterator[tuple[Services, str]]:
    """The services on the configured Redis, or on the embedded one (started if needed),
    and that Redis's URL. Built by the same factory as the app's. Redis must answer within
    `wait` seconds (0: at the first try), else Unavailable says where and what was tried."""
    async with AsyncExitStack() as stack:
        url = settings.redis_url
        if url is None:
            url = await stack.enter_async_context(EmbeddedRedis(settings.data_dir))
        timeout = max(settings.redis_timeout, 2.0)
        client = connect(url, timeout)
        stack.push_async_callback(client.aclose)
        await _reachable(client, url, timeout, wait)
        yield Services.build(settings, client), url


async def _reachable(client: Redis, url: str, per_try: float, wait: float) -> None:
    """PING until Redis answers. A Redis that is down or still loading its data is asked
    again, each failed try logged, until `wait` seconds have passed; a refused password is
    not (waiting would not change it)."""
    started = time.monotonic()
    tries = 0
    while True:
        tries += 1
        try:
            await client.ping()
            return
        except (RedisError, OSError) as exc:
            why = str(exc).rstrip(".") or type(exc).__name__
            waited = time.monotonic() - started
            if isinstance(exc, AuthenticationError) or waited >= wait:
                tried = f"tried {tries} time{'s' if tries > 1 else ''}"
                tried += f" over {waited:.0f} s" if tries > 1 else f" (timeout {per_try:g} s)"
                where = "PREFSTORE_REDIS_URL" if "redis.sock" not in url else "the embedded Redis"
                raise Unavailable(
                    f"cannot reach Redis at {redacted(url)} ({where}): {why}; {tried}"
                ) from None
            log.warning(
                "waiting for Redis at %s (try %d, %.0f of %.0f s): %s",
                *(redacted(url), tries, waited, wait, why),
            )
            await asyncio.sleep(min(1.0, max(0.0, wait - waited)))


def redacted(url: str) -> str:
    """`url` with its password, if any (in the user part or a `password=` parameter), shown
    as `***`: fit for a log line or an error message."""
    netloc = urlsplit(url).netloc
    userinfo, _, host = netloc.rpartition("@")
    if ":" in userinfo:
        url = url.replace(netloc, f"{userinfo.partition(':')[0]}:***@{host}", 1)
    base, mark, query = url.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    masked = [(k, "***" if k.lower() == "password" else v) for k, v in pairs]
    return base + mark + urlencode(masked, safe="*/")


@contextmanager
def _reported() -> Iterator[None]:
    """An error the user can act on (configuration, input, Redis, files) becomes one line,
    click's `Error: …` with exit status 1, not a traceback."""
    try:
        yield
    except PrefstoreError as exc:
        raise click.ClickException(exc.detail) from exc
    except EmbeddedRedisError as exc:
        raise click.ClickException(f"embedded Redis: {exc} (or set PREFSTORE_REDIS_URL)") from exc
    except RedisError as exc:
        raise click.ClickException(f"Redis: {exc}") from exc
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        raise click.ClickException(f"{exc.strerror or exc}{where}") from exc


@click.group()
@click.version_option(package_name="prefstore")
@click.pass_context
def main(ctx: click.Context) -> None:
    """prefstore: what we know about the person in front of you."""
    with _reported():
        ctx.obj = Settings.from_env()


# ------------------------------------------------------------------ serve
@main.command()
@click.option("--host", default=None, help="Bind address [PREFSTORE_HOST, 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [PREFSTORE_PORT, 8000].")
@click.option("--demo", is_flag=True, help="Seed demo customers and print a fresh write key.")
@click.pass_obj
def serve(settings: Settings, host: str | None, port: int | None, demo: bool) -> None:
    """Run the API (on the embedded Redis unless PREFSTORE_REDIS_URL is set)."""
    settings = msgspec.structs.replace(
        settings, host=host or settings.host, port=port or settings.port
    )
    logging.basicConfig(level=settings.log_level.upper())
    # uvloop for the whole run: uvicorn's own `loop` setting applies only when uvicorn
    # creates the loop (`uvicorn.run`), not to `Server.serve()` awaited in ours.
    with _reported(), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_serve(settings, demo))


async def _serve(settings: Settings, demo: bool) -> None:
    from prefstore.http.app import create_app

    # A Redis started beside prefstore (systemd, compose) may not answer yet: wait for it.
    async with redis_session(settings, settings.redis_wait_seconds) as (services, url):
        await _first_run(services, demo)
        app = create_app(msgspec.structs.replace(settings, redis_url=url))
        install_runtime_tuning(app)  # GC: see runtime.py and docs/BENCHMARKS.md
        # httptools on the uvloop loop `serve` runs (scripts/bench_lookup.py measures it).
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            loop="none",
            http="httptools",
            log_level=settings.log_level,
            access_log=False,
        )
        console.print(f"prefstore on http://{settings.host}:{settings.port}  (docs: /schema)")
        with _signals_end_serving_only():
            await uvicorn.Server(config).serve()


@contextmanager
def _signals_end_serving_only() -> Iterator[None]:
    """uvicorn re-raises the SIGTERM/SIGINT that stopped it once it has shut down, which would
    kill this process before the embedded Redis is stopped. With no-op handlers underneath
    uvicorn's own, the signal ends serving and the clean-up still runs."""
    previous = {sig: signal.signal(sig, lambda _sig, _frame: None) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


async def _first_run(services: Services, demo: bool) -> None:
    keystore = services.keystore
    if demo:
        created = await seed_demo(services.store)
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        made = await keystore.create(f"demo-{stamp}", ["write"])
        console.print(f"demo: {created} customers created; a write key for this run:")
        print(f"PREFSTORE_KEY={made.key}", flush=True)
    elif not await keystore.list():
        made = await keystore.create("first-admin", ["admin"])
        console.print("first start: an admin key, shown this once — keep it safe:")
        print(f"PREFSTORE_KEY={made.key}", flush=True)


# ------------------------------------------------------------------ keys
@main.group()
def keys() -> None:
    """Create, list and revoke API keys."""


def _run(coro: object) -> object:
    with _reported():
        return asyncio.run(coro)  # type: ignore[arg-type]


@keys.command("create")
@click.option("--name", required=True, help="Who uses it; becomes the author of their notes.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(ALL_SCOPES),
    help="lookup (POS: contacts masked), contact (+ phones, emails), write (staff apps), "
    "import, metrics (a Prometheus scraper: /metrics only), admin. Repeatable.",
)
@click.option(
    "--venue",
    default=None,
    help="Bind the key to one venue (of PREFSTORE_VENUES): what it writes is recorded "
    "there, and it may not act for another.",
)
@click.pass_obj
def keys_create(settings: Settings, name: str, scopes: tuple[str, ...], venue: str | None) -> None:
    """Create a key; the secret is printed once and never stored."""

    async def go() -> None:
        async with redis_session(settings) as (services, _url):
            made = await services.keystore.create(name, list(scopes), venue)
        at = f" at {made.info.venue}" if made.info.venue else ""
        console.print(
            f"key {made.info.id} ({', '.join(made.info.scopes)}) for {made.info.name}{at}"
        )
        print(made.key)

    _run(go())


@keys.command("list")
@click.pass_obj
def keys_list(settings: Settings) -> None:
    """List keys (never their secrets)."""

    async def go() -> None:
        async with redis_session(settings) as (services, _url):
            infos = await services.keystore.list()
        table = Table("id", "name", "scopes", "venue", "created", "revoked")
        for info in infos:
            table.add_row(
                info.id,
                info.name,
                ",".join(info.scopes),
                info.venue or "",
                f"{info.created_at:%Y-%m-%d %H:%M}",
                f"{info.revoked_at:%Y-%m-%d %H:%M}" if info.revoked_at else "",
            )
        Console().print(table)

    _run(go())


@keys.command("revoke")
@click.argument("key_id")
@click.pass_obj
def keys_revoke(settings: Settings, key_id: str) -> None:
    """Revoke a key by id (takes effect within PREFSTORE_KEY_CACHE_SECONDS)."""

    async def go() -> None:
        async with redis_session(settings) as (services, _url):
            info = await services.keystore.revoke(key_id)
        console.print(f"revoked {info.id} ({info.name})")

    _run(go())


# ------------------------------------------------------------------ import / export
@main.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--preset", default="auto", help="auto, prefstore, hubspot, salesforce.")
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Mapping file (JSON): {'preset': ..., 'columns': {COLUMN: TARGET}}.",
)
@click.option("--column", "columns", multiple=True, help="COLUMN=TARGET; repeatable.")
@click.option("--dry-run", is_flag=True, help="Count and list likely duplicates; write nothing.")
@click.option(
    "--rejects",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Rejects file [FILE.rejects.csv|ndjson next to the input].",
)
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson"]), default=None)
@click.option("--batch-size", type=int, default=1000, show_default=True)
@click.option("--actor", default="import", show_default=True, help="Author in the audit trail.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def import_(
    settings: Settings,
    files: tuple[Path, ...],
    preset: str,
    map_file: Path | None,
    columns: tuple[str, ...],
    dry_run: bool,
    rejects: Path | None,
    fmt: str | None,
    batch_size: int,
    actor: str,
    quiet: bool,
) -> None:
    """Import customers from CRM exports (CSV or NDJSON, optionally gzipped). Safe to re-run."""
    from prefstore.transfer import ImportOptions, Mapping
    from prefstore.transfer.console import import_file, summary_table

    with _reported():  # a misspelt preset or target, a mapping file that does not read
        mapping = Mapping.build(preset, map_file, columns)

    async def go() -> None:
        async with redis_session(settings) as (services, _url):
            for path in files:
                options = ImportOptions(
                    mapping=mapping,
                    format=fmt,  # type: ignore[arg-type]
                    dry_run=dry_run,
                    batch_size=batch_size,
                    actor=actor,
                )
                target = rejects if len(files) == 1 else None
                summary, sink = await import_file(
                    services.importer, path, options, target, console, not quiet
                )
                console.print(summary_table(path, summary, sink))

    _run(go())


@main.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write [stdout]; a .gz name is gzipped. Written whole or not at all.",
)
@click.pass_obj
def export_(settings: Settings, output: Path | None) -> None:
    """Write every customer as NDJSON that `prefstore import` restores."""
    import sys

    from prefstore.transfer.exporter import export_file, export_to

    async def go() -> None:
        async with redis_session(settings) as (services, _url):
            client, keys = services.redis, services.keys
            if output is None:
                count = await export_to(client, keys, sys.stdout.buffer)
            else:  # whole or not at all: a failed export leaves no partial file
                count = await export_file(client, keys, output)
        console.print(f"exported {count:,} customers")

    _run(go())


if __name__ == "__main__":
    main()
