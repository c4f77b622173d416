"""The `prefstore keys` commands against a real Redis."""

from __future__ import annotations

import re
import uuid

import pytest
from click.testing import CliRunner

from prefstore.cli import main
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.real_redis


def test_keys_create_list_revoke(redis_server: RedisServer) -> None:
    env = {
        "PREFSTORE_REDIS_URL": redis_server.url,
        "PREFSTORE_KEY_PREFIX": f"cli{uuid.uuid4().hex[:6]}:",
    }
    runner = CliRunner()
    created = runner.invoke(
        main, ["keys", "create", "--name", "Front desk", "--scope", "write"], env=env
    )
    assert created.exit_code == 0, created.output
    key = re.search(r"psk_[0-9a-f]+_\S+", created.output)
    assert key is not None
    key_id = key.group(0).split("_")[1]

    listed = runner.invoke(main, ["keys", "list"], env=env)
    assert listed.exit_code == 0
    assert key_id in listed.output and "Front desk" in listed.output
    assert key.group(0) not in listed.output, "a secret must never be listed"

    revoked = runner.invoke(main, ["keys", "revoke", key_id], env=env)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    missing = runner.invoke(main, ["keys", "revoke", "nope"], env=env)
    assert missing.exit_code != 0 and "no API key" in missing.output

    bad_scope = runner.invoke(main, ["keys", "create", "--name", "x", "--scope", "root"], env=env)
    assert bad_scope.exit_code == 2
