"""Cluster mode's first part (docs/cluster.md): nodes register in a real Redis, beat,
report their load, leave when stopped and drop out when killed; `salon nodes` lists
them. Each test run uses a cluster name of its own, so runs sharing the Redis do not
see each other."""

import json
import os
import signal
import time

from salon.client import RealtimeClient, ws_url
from tests.live import admin_for
from tests.servers import SalonServer, cleanup, run_cli, start

REDIS = "redis://127.0.0.1:6379/0"
BEAT = "0.3"


def node_env(cluster: str, node_id: str) -> dict[str, str]:
    return {"SALON_REDIS_URL": REDIS, "SALON_CLUSTER_NAME": cluster, "SALON_NODE_ID": node_id,
            "SALON_NODE_HEARTBEAT_SECS": BEAT}


def listed(server: SalonServer, cluster: str) -> dict[str, dict]:
    """`salon nodes --json`, run as an operator would, keyed by node id."""
    env = {**os.environ, "SALON_DATA_DIR": str(server.data_dir), "SALON_REDIS_URL": REDIS,
           "SALON_CLUSTER_NAME": cluster}
    out = run_cli(env, "nodes", "--json").stdout
    return {record["id"]: record for record in map(json.loads, out.splitlines())}


def until(check, timeout: float = 10):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.1)


async def test_nodes_register_report_load_leave_and_expire(cluster: str) -> None:
    first = start("", env=node_env(cluster, "node-a"))
    second = start("", env=node_env(cluster, "node-b"))
    try:
        nodes = listed(first, cluster)
        assert set(nodes) == {"node-a", "node-b"}
        assert nodes["node-a"]["address"] == first.url
        assert nodes["node-b"]["address"] == second.url
        assert nodes["node-a"]["rooms"] == 0 and nodes["node-a"]["peers"] == 0

        # A live meeting on the first node shows in its load within a beat or two.
        async with admin_for(first) as admin:
            meeting = await admin.create_meeting(title="on node a")
            person = await admin.add_participant(meeting["id"], "ada",
                                                 "group_call_participant", name="Ada")
        peer = await RealtimeClient.join(ws_url(first.url), person["token"])
        try:
            loaded = until(lambda: listed(first, cluster)["node-a"]["peers"] == 1)
            assert loaded
            assert listed(first, cluster)["node-a"]["rooms"] == 1
            assert listed(first, cluster)["node-b"]["rooms"] == 0
        finally:
            await peer.close()

        # Killed: gone once its entry expires (three missed beats).
        os.kill(second.process.pid, signal.SIGKILL)
        second.process.wait()
        assert until(lambda: "node-b" not in listed(first, cluster), timeout=5)
        assert "node-a" in listed(first, cluster)

        # Stopped: gone at once.
        first.stop()
        assert listed(first, cluster) == {}
    finally:
        cleanup(first)
        cleanup(second)


def test_without_redis_nodes_says_cluster_mode_is_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "SALON_DATA_DIR": str(tmp_path), "SALON_REDIS_URL": ""}
    result = run_cli(env, "nodes", check=False)
    assert result.returncode == 1
    assert "Cluster mode is off" in result.stderr
