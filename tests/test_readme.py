"""The README's run command and its curl examples work as printed.

Starts `prefstore serve --demo` as the README's `scripts/run` does (embedded Redis included),
reads the printed key, and replays every curl example between the README's markers.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.redis_server import free_port

pytestmark = pytest.mark.real_redis
README = Path(__file__).resolve().parent.parent / "README.md"


def readme_curl_commands() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- readme-examples: start -->")[1].split("<!-- readme-examples: end -->")[
        0
    ]
    joined = re.sub(r"\\\n\s*", " ", block)
    return [shlex.split(line) for line in joined.splitlines() if line.strip().startswith("curl ")]


def as_request(argv: list[str], key: str, port: int) -> httpx.Request:
    method, headers, data, url = "GET", {}, None, None
    args = iter(argv[1:])
    for arg in args:
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip().replace("$PREFSTORE_KEY", key)
        elif arg == "-d":
            data = next(args)
            method = "POST" if method == "GET" else method
        elif arg == "-s":
            continue
        else:
            url = arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    assert url, argv
    return httpx.Request(method, url, headers=headers, content=data)


@pytest.fixture
def served() -> Iterator[tuple[int, str]]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="ps-") as data_dir:
        env = {**os.environ, "PREFSTORE_DATA_DIR": data_dir, "PREFSTORE_PORT": str(port)}
        env.pop("PREFSTORE_REDIS_URL", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "prefstore.cli", "serve", "--demo"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            match = re.match(r"PREFSTORE_KEY=(psk_\S+)", line)
            assert match, f"no key printed: {line!r}"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            yield port, match.group(1)
        finally:
            process.terminate()
            process.wait(timeout=20)
            process.stdout.close()
        assert not (Path(data_dir) / "redis.pid").exists() or _redis_stopped(Path(data_dir))


def _redis_stopped(data_dir: Path) -> bool:
    pid = int((data_dir / "redis.pid").read_text().strip() or 0)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_readme_examples_work_as_printed(served: tuple[int, str]) -> None:
    port, key = served
    commands = readme_curl_commands()
    assert len(commands) >= 4
    with httpx.Client(timeout=5) as client:
        for argv in commands:
            response = client.send(as_request(argv, key, port))
            assert response.status_code in (200, 201), (argv, response.text)
            assert response.json()["id"] == "demo-ada"
    readme = README.read_text(encoding="utf-8")
    assert "scripts/run" in readme and "scripts/test" in readme
