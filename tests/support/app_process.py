"""The real app under uvicorn, in its own process, on a free port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from tests.support.redis_server import free_port


@dataclass
class Server:
    url: str
    prefix: str
    redis_url: str
    pid: int = 0


@contextmanager
def app_process(
    redis_url: str, prefix: str, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start the app on this Redis and key prefix; stop it on exit. `settings`: more
    `PREFSTORE_*` environment variables (they win over the defaults here)."""
    port = free_port()
    env = {
        **os.environ,
        "PREFSTORE_REDIS_URL": redis_url,
        "PREFSTORE_KEY_PREFIX": prefix,
        "PREFSTORE_KEY_CACHE_SECONDS": "0.5",
        "PREFSTORE_LOG_LEVEL": "warning",
        **(settings or {}),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "prefstore.http.app:app_from_env",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
        yield Server(url=url, prefix=prefix, redis_url=redis_url, pid=process.pid)
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the app did not become ready")


def import_children(server_pid: int) -> list[int]:
    """The pids of the HTTP imports' child processes of the app with `server_pid`: the
    children of its multiprocessing forkserver (`transfer/child.py`)."""
    forkservers = [
        pid
        for pid, (ppid, cmd) in _processes().items()
        if ppid == server_pid and "forkserver" in cmd
    ]
    return [pid for pid, (ppid, _cmd) in _processes().items() if ppid in forkservers]


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line), from /proc."""
    found: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmd:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
                found[int(entry)] = (ppid, cmd.read().replace(b"\0", b" ").decode(errors="replace"))
        except (OSError, ValueError, IndexError):
            continue
    return found
