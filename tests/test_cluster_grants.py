"""Token grants in a cluster (docs/cluster.md, "Token grants"): a token revoked over
one node's REST is refused by every node at once, not after the grant cache's ttl.

Two real apps on loopback (uvicorn, in this process so that the test can lengthen
node B's cache), one PostgreSQL, one Redis. Node B caches grants for a minute here: the
revocation can only reach it through Redis within the second the test allows, and a
token revoked behind the nodes' backs (in the database, as no node sees) stays cached,
which shows the cache would otherwise have kept the first one too."""

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from salon.api.app import create_app
from salon.services import api_tokens
from salon.services.grants import channel
from salon.settings import Settings
from tests.servers import ThrowawayPostgres, free_port, in_process, run_cli

REDIS = "redis://127.0.0.1:6379/0"
VERIFY = "/client/v4/user/tokens/verify"


def settings_of(cluster: str, node_id: str, url: str, data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, media_backend="none",
                    port=free_port(), redis_url=REDIS, cluster_name=cluster, node_id=node_id,
                    node_heartbeat_secs=0.3, rtmp_port=0)


@pytest.fixture
async def nodes(cluster: str, postgres: ThrowawayPostgres,
                tmp_path: Path) -> AsyncIterator[tuple[FastAPI, str, str, dict]]:
    """Nodes A and B serving; their URLs and the account's credentials."""
    env = {**os.environ, "SALON_DATA_DIR": str(tmp_path / "cli"),
           "SALON_DATABASE_URL": postgres.url}
    creds = json.loads(run_cli(env, "apps", "create", "test", "--json").stdout)
    first = settings_of(cluster, "node-a", postgres.url, tmp_path / "a")
    second = settings_of(cluster, "node-b", postgres.url, tmp_path / "b")
    node_b = create_app(second)
    async with in_process(create_app(first), first.port), in_process(node_b, second.port):
        node_b.state.grants.ttl = 60.0  # only a message can make it forget in time
        yield (node_b, f"http://127.0.0.1:{first.port}", f"http://127.0.0.1:{second.port}",
               creds)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_revoked_on_one_node_is_refused_by_the_other_at_once(
        nodes: tuple[FastAPI, str, str, dict]) -> None:
    node_b, url_a, url_b, creds = nodes
    account = f"/client/v4/accounts/{creds['account_id']}/realtime/kit/api_tokens"
    async with httpx.AsyncClient(base_url=url_a, timeout=10) as a, \
            httpx.AsyncClient(base_url=url_b, timeout=10) as b:
        made = [(await a.post(account, json={"name": name},
                              headers=bearer(creds["api_token"]))).json()["data"]
                for name in ("revoked over REST", "revoked in the database")]
        for token in made:  # both cached on node B
            assert (await b.get(VERIFY, headers=bearer(token["token"]))).status_code == 200

        revoked = await a.delete(f"{account}/{made[0]['id']}",
                                 headers=bearer(creds["api_token"]))
        assert revoked.status_code == 200, revoked.text
        deadline = time.monotonic() + 1.0
        while (answer := await b.get(VERIFY, headers=bearer(made[0]["token"]))) \
                .status_code == 200 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert answer.status_code == 401, "node B still accepts the token revoked on node A"
        assert answer.json()["error"]["message"] == "Invalid or revoked API token."

        # Revoked where no node sees it (no message): node B's cache keeps it, as it
        # would have kept the first without the message.
        async with node_b.state.database.session() as db:
            await api_tokens.revoke(db, made[1]["id"])
        await asyncio.sleep(1.0)
        assert (await b.get(VERIFY, headers=bearer(made[1]["token"]))).status_code == 200


async def test_what_is_no_token_hash_on_the_channel_is_ignored(
        cluster: str, nodes: tuple[FastAPI, str, str, dict]) -> None:
    node_b, _, url_b, creds = nodes
    async with httpx.AsyncClient(base_url=url_b, timeout=10,
                                 headers=bearer(creds["api_token"])) as b:
        assert (await b.get(VERIFY)).status_code == 200
        client = Redis.from_url(REDIS)
        try:
            for junk in (b"", b"\xff\xfe", b"x" * 100_000, b"A" * 64, b"0" * 63):
                assert await client.publish(channel(cluster), junk) == 2  # both nodes hear
        finally:
            await client.aclose()
        await asyncio.sleep(0.3)
        assert (await b.get(VERIFY)).status_code == 200
        assert len(node_b.state.grants._grants) == 1  # still cached: nothing was dropped
