"""Several real salon nodes on one PostgreSQL and one Redis, each on a loopback address
of its own (127.0.0.2, 127.0.0.3, …) so that they look like machines (docs/cluster.md).
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import redis

from tests.servers import ThrowawayPostgres, run_cli

REDIS = "redis://127.0.0.1:6379/0"


def free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Node:
    node_id: str
    host: str
    port: int
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}/realtime/v1"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@dataclass
class Cluster:
    name: str
    database: ThrowawayPostgres
    nodes: list[Node]
    account_id: str
    app_id: str
    api_token: str
    redis_url: str = REDIS

    def app_url(self, node: Node) -> str:
        return (f"{node.url}/client/v4/accounts/{self.account_id}/realtime/kit/"
                f"{self.app_id}")

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}

    def owner(self, meeting_id: str) -> str | None:
        client = redis.Redis.from_url(REDIS)
        try:
            value = client.get(f"{self.name}:room:{meeting_id}")
        finally:
            client.close()
        return value.decode() if value else None

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start_node(self, index: int, env: dict[str, str] | None = None) -> Node:
        host = f"127.0.0.{index + 2}"
        port = free_port(host)
        node_id = f"node-{index + 1}"
        data_dir = Path(tempfile.mkdtemp(prefix=f"salon-{node_id}-"))
        node_env = {**os.environ, "SALON_DATA_DIR": str(data_dir),
                    "SALON_DATABASE_URL": self.database.url,
                    "SALON_REDIS_URL": self.redis_url, "SALON_CLUSTER_NAME": self.name,
                    "SALON_NODE_ID": node_id, "SALON_NODE_HEARTBEAT_SECS": "0.5",
                    "SALON_ROOM_LEASE_SECS": "3", "SALON_RESUME_GRACE_SECS": "20",
                    "SALON_PUBLIC_URL": f"http://{host}:{port}", **(env or {})}
        log_path = data_dir / "server.log"
        log = open(log_path, "ab")
        process = subprocess.Popen([sys.executable, "-m", "salon", "serve", "--host", host,
                                    "--port", str(port)], env=node_env, stdout=log,
                                   stderr=subprocess.STDOUT)
        node = Node(node_id, host, port, data_dir, node_env, process, log_path)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{node_id} exited early:\n{node.log()}")
            try:
                if httpx.get(f"{node.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            process.kill()
            raise RuntimeError(f"{node_id} did not answer:\n{node.log()}")
        if index < len(self.nodes):
            self.nodes[index] = node
        else:
            self.nodes.append(node)
        return node


@contextmanager
def cluster_of(count: int, env: dict[str, str] | None = None,
               redis_url: str = REDIS) -> Iterator[Cluster]:
    """`count` nodes of a new cluster on a throwaway PostgreSQL database."""
    database = ThrowawayPostgres()
    name = f"test-{uuid.uuid4().hex[:10]}"
    try:
        creds = json.loads(run_cli({**os.environ, "SALON_DATABASE_URL": database.url,
                                    "SALON_DATA_DIR": tempfile.mkdtemp()},
                                   "apps", "create", "test", "--json").stdout)
        cluster = Cluster(name, database, [], creds["account_id"], creds["app_id"],
                          creds["api_token"], redis_url)
        for index in range(count):
            cluster.start_node(index, env)
        yield cluster
    finally:
        for node in cluster.nodes if "cluster" in locals() else []:
            node.stop()
        client = redis.Redis.from_url(REDIS)
        for key in client.scan_iter(f"{name}:*"):
            client.delete(key)
        client.close()
        database.drop()
