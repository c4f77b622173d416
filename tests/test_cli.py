"""The `prefstore` command: keys against a real Redis, and errors said in one line, never a
traceback (issue 13): a misspelt preset, a bad mapping file, an unreachable Redis, an invalid
environment value, an export that fails, a Redis that is still starting."""

from __future__ import annotations

import codecs
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from click.testing import CliRunner, Result

from prefstore.cli import main, redacted
from prefstore.errors import Unavailable
from prefstore.transfer import exporter
from tests.support.redis_server import RedisServer, free_port

CSV = "Record ID,First Name,Email\n1,Zoë,zoe@example.com\n"


def _invoke(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, args, env=env)


def _clean_error(result: Result, *expected: str) -> str:
    """The command failed with click's one-line `Error: …` holding `expected`, no traceback."""
    output = result.output
    assert result.exit_code == 1, output
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert "Traceback" not in output and output.startswith("Error: "), output
    for text in expected:
        assert text in output, output
    return output


@pytest.fixture
def env(redis_server: RedisServer) -> Iterator[dict[str, str]]:
    """The environment of a CLI on the session's Redis, under a key prefix of its own (whose
    keys are deleted afterwards)."""
    prefix = f"cli{uuid.uuid4().hex[:6]}:"
    yield {"PREFSTORE_REDIS_URL": redis_server.url, "PREFSTORE_KEY_PREFIX": prefix}
    with redis.Redis.from_url(redis_server.url) as client:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)


@pytest.mark.real_redis
def test_keys_create_list_revoke(env: dict[str, str]) -> None:
    created = _invoke(["keys", "create", "--name", "Front desk", "--scope", "write"], env)
    assert created.exit_code == 0, created.output
    key = re.search(r"psk_[0-9a-f]+_\S+", created.output)
    assert key is not None
    key_id = key.group(0).split("_")[1]

    listed = _invoke(["keys", "list"], env)
    assert listed.exit_code == 0
    assert key_id in listed.output and "Front desk" in listed.output
    assert key.group(0) not in listed.output, "a secret must never be listed"

    revoked = _invoke(["keys", "revoke", key_id], env)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    _clean_error(_invoke(["keys", "revoke", "nope"], env), "no API key")

    bad_scope = _invoke(["keys", "create", "--name", "x", "--scope", "root"], env)
    assert bad_scope.exit_code == 2


@pytest.mark.real_redis
def test_a_key_is_bound_to_a_venue_of_the_deployment(env: dict[str, str]) -> None:
    chain = {**env, "PREFSTORE_VENUES": "soho,camden"}
    create = ["keys", "create", "--name", "Till 1", "--scope", "lookup", "--venue"]
    created = _invoke([*create, "soho"], chain)
    assert created.exit_code == 0 and "for Till 1 at soho" in created.output, created.output
    assert "soho" in _invoke(["keys", "list"], chain).output
    _clean_error(_invoke([*create, "brixton"], chain), "venue", "soho, camden")


# ------------------------------------------------------------------ mapping and presets
def test_a_misspelt_preset_is_named_with_the_closest(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text(CSV)
    result = _invoke(["import", "--preset", "hubspt", str(tmp_path / "crm.csv")])
    _clean_error(result, "unknown preset 'hubspt'; did you mean 'hubspot'?", "salesforce")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"columns": {"Fav": "likes:beverage",}}', "map: mapping file"),
        ('{"columns": {"Fav": "likes:beverage",}}', "is not valid JSON: Expecting"),
        ('{"columns": {"Fav": "likes:bevrage"}}', "did you mean 'likes:beverage'?"),
        ('{"columns": ["Fav"]}', 'map: expected {"preset": ..., "columns"'),
        ('{"preset": "salesforse"}', "preset: unknown preset 'salesforse'; did you mean"),
        ('{"colums": {}}', "map: unknown keys ['colums']"),
        ("\udcff", "is not valid JSON"),
    ],
)
def test_a_bad_mapping_file_says_what_is_wrong(tmp_path: Path, text: str, expected: str) -> None:
    (tmp_path / "crm.csv").write_text(CSV)
    (tmp_path / "map.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    result = _invoke(["import", "--map", str(tmp_path / "map.json"), str(tmp_path / "crm.csv")])
    _clean_error(result, expected)


def test_a_bad_column_target_suggests_one(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text(CSV)
    result = _invoke(["import", "--column", "Email=emial", str(tmp_path / "crm.csv")])
    _clean_error(result, "column 'Email': unknown target 'emial'; did you mean 'email'?")


# ------------------------------------------------------------------ environment
@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PREFSTORE_PORT", "80 80", "PREFSTORE_PORT='80 80': expected an integer from 1 to 65535"),
        ("PREFSTORE_REDIS_TIMEOUT", "soon", "expected a number of at least 0.001"),
        ("PREFSTORE_RATE_LIMIT_PER_KEY", "-5", "expected an integer of at least 0"),
        ("PREFSTORE_COOKIE_SECURE", "sometimes", "expected true or false"),
        ("PREFSTORE_DEFAULT_REGION", "USA", "expected a two-letter country code"),
        ("PREFSTORE_LOG_LEVEL", "loud", "expected critical, error, warning, info or debug"),
        ("PREFSTORE_REDIS_URL", "localhost:6379", "expected redis://"),
        ("PREFSTORE_LOG_FORMAT", "xml", "PREFSTORE_LOG_FORMAT"),
    ],
)
def test_an_invalid_environment_value_names_the_variable(
    variable: str, value: str, expected: str
) -> None:
    output = _clean_error(_invoke(["keys", "list"], {variable: value}), variable, expected)
    assert len(output.splitlines()) <= 3


def test_an_empty_environment_value_is_as_if_unset() -> None:
    result = _invoke(["import", "--preset", "nope", os.devnull], {"PREFSTORE_PORT": ""})
    _clean_error(result, "unknown preset 'nope'")  # got past the settings


# ------------------------------------------------------------------ an unreachable Redis
def test_redacted_hides_passwords_only() -> None:
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redacted("redis://:pw@h:1/2") == "redis://:***@h:1/2"
    assert redacted("rediss://app:p%40ss@h.example.com:6380/0") == (
        "rediss://app:***@h.example.com:6380/0"
    )
    assert redacted("unix:///run/redis.sock?db=2&password=pw") == (
        "unix:///run/redis.sock?db=2&password=***"
    )


def test_an_unreachable_redis_is_named_without_its_password() -> None:
    port = free_port()  # nothing listens there
    url = f"redis://app:s3cret@127.0.0.1:{port}/0"
    started = time.monotonic()
    result = _invoke(["keys", "list"], {"PREFSTORE_REDIS_URL": url})
    output = _clean_error(
        result,
        f"cannot reach Redis at redis://app:***@127.0.0.1:{port}/0 (PREFSTORE_REDIS_URL)",
        "tried 1 time (timeout 2 s)",
    )
    assert "s3cret" not in output
    assert time.monotonic() - started < 15


@pytest.mark.real_redis
def test_a_refused_password_is_said_at_once(redis_server: RedisServer) -> None:
    url = redis_server.url.replace("redis://", "redis://nobody:wrong@")
    output = _clean_error(_invoke(["keys", "list"], {"PREFSTORE_REDIS_URL": url}))
    assert "redis://nobody:***@" in output and "wrong" not in output.replace("WRONGPASS", "")


# ------------------------------------------------------------------ import and export
@pytest.mark.real_redis
def test_import_reports_the_encoding_it_read(env: dict[str, str], tmp_path: Path) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_bytes(codecs.BOM_UTF16_LE + CSV.replace(",", "\t").encode("utf-16-le"))
    result = _invoke(["import", "--quiet", str(crm)], env)
    assert result.exit_code == 0, result.output
    assert re.search(r"encoding\s+.\s*utf-16-le", result.output), result.output
    assert re.search(r"created\s+.\s*1\b", result.output), result.output


@pytest.mark.real_redis
@pytest.mark.parametrize("name", ["all.ndjson", "all.ndjson.gz"])
def test_a_failed_export_leaves_no_file_behind(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    (tmp_path / "crm.csv").write_text(CSV)
    assert _invoke(["import", "--quiet", str(tmp_path / "crm.csv")], env).exit_code == 0

    async def failing(*_args: Any) -> AsyncIterator[bytes]:
        yield b'{"customer": {}}\n'
        raise Unavailable("store unavailable: ConnectionError")

    out = tmp_path / name
    monkeypatch.setattr(exporter, "export_lines", failing)
    _clean_error(_invoke(["export", "-o", str(out)], env), "store unavailable")
    assert list(tmp_path.iterdir()) == [tmp_path / "crm.csv"], "no partial or temporary file"
    out.write_bytes(b"the previous export\n")
    _clean_error(_invoke(["export", "-o", str(out)], env))
    assert out.read_bytes() == b"the previous export\n", "a failed export keeps the last one"
    monkeypatch.undo()
    done = _invoke(["export", "-o", str(out)], env)
    assert done.exit_code == 0 and "exported 1 customers" in done.output
    assert sorted(tmp_path.iterdir()) == sorted([tmp_path / "crm.csv", out])
    assert out.stat().st_mode & 0o077 == 0, "every customer's data: readable by its owner only"


def test_an_export_to_a_missing_directory_says_so(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "all.ndjson"
    env = {"PREFSTORE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    _clean_error(_invoke(["export", "-o", str(target)], env), "cannot reach Redis")
    assert not target.parent.exists()


# ------------------------------------------------------------------ serve
def _serve(port: int, redis_port: int, wait: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PREFSTORE_REDIS_URL": f"redis://:pw-not-needed@127.0.0.1:{redis_port}/0",
        "PREFSTORE_KEY_PREFIX": f"srv{uuid.uuid4().hex[:6]}:",
        "PREFSTORE_PORT": str(port),
        "PREFSTORE_REDIS_WAIT_SECONDS": wait,
        "PREFSTORE_LOG_LEVEL": "warning",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "prefstore.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.real_redis
def test_serve_waits_for_a_redis_that_is_starting(tmp_path: Path) -> None:
    port, redis_port = free_port(), free_port()
    process = _serve(port, redis_port, "30")
    server = RedisServer(tmp_path / "redis", port=redis_port)
    try:
        time.sleep(2.5)  # serve is up, Redis not yet: it waits (and says so)
        assert process.poll() is None, "serve gave up on a Redis that was starting"
        server.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("serve did not start once Redis was up")
    finally:
        process.terminate()
        _out, err = process.communicate(timeout=20)
        server.stop()
    assert f"waiting for Redis at redis://:***@127.0.0.1:{redis_port}/0 (try 1," in err, err
    assert "pw-not-needed" not in err


def test_serve_gives_up_after_the_wait_it_was_given() -> None:
    redis_port = free_port()
    started = time.monotonic()
    process = _serve(free_port(), redis_port, "1.5")
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 1
    assert time.monotonic() - started < 20
    assert "waiting for Redis" in err and "Traceback" not in err, err
    assert f"Error: cannot reach Redis at redis://:***@127.0.0.1:{redis_port}/0" in err, err
    assert re.search(r"tried \d+ times over [12] s", err), err
