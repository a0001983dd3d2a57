"""Several real salon nodes on one PostgreSQL and one Redis, each on a loopback address
of its own (127.0.0.2, 127.0.0.3, …) so that they look like machines (docs/cluster.md).
"""

import asyncio
import contextlib
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
#: PostgreSQL's socket: a path, so it is reachable from a private network namespace too.
PG_SOCKET = "/var/run/postgresql"


def _reachable(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


class SocketPostgres(ThrowawayPostgres):
    """A throwaway database reached over PostgreSQL's Unix socket (inside a network
    namespace, where the host's 127.0.0.1:5432 is not there)."""

    def __post_init__(self) -> None:
        self._psql(f'CREATE DATABASE "{self.name}"')

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/{self.name}?host={PG_SOCKET}"

    def drop(self) -> None:
        self._psql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    @staticmethod
    def _psql(sql: str) -> None:
        subprocess.run(["psql", f"postgresql://postgres@/postgres?host={PG_SOCKET}",
                        "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)


def throwaway_database() -> ThrowawayPostgres:
    if _reachable("127.0.0.1", 5432) or not Path(PG_SOCKET).exists():
        return ThrowawayPostgres()
    return SocketPostgres()


@contextmanager
def private_redis() -> Iterator[str]:
    """A Redis of the test's own (a network namespace has no other), on a free port."""
    port = free_port("127.0.0.1")
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while not _reachable("127.0.0.1", port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait()


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
            try:  # a drain's bound, as an orchestrator's grace period (Kubernetes: 30 s)
                self.process.wait(timeout=30)
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
        client = redis.Redis.from_url(self.redis_url)
        try:
            value = client.get(f"{self.name}:room:{meeting_id}")
        finally:
            client.close()
        return value.decode() if value else None

    async def wait_on_record(self, meeting_id: str, peers: int, timeout: float = 10) -> None:
        """Until the meeting's live session has `peers` joined peers on record (what a
        node that takes the meeting over reads)."""
        url = f"{self.app_url(self.nodes[0])}/meetings/{meeting_id}/active-session"
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(headers=self.headers) as rest:
            while time.monotonic() < deadline:  # AS1 answers once the records are saved
                session = (await rest.get(url)).json().get("data") or {}
                if session.get("live_participants", 0) >= peers:
                    return
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{peers} peers of meeting {meeting_id} not on record")

    def node(self, node_id: str) -> Node:
        return next(n for n in self.nodes if n.node_id == node_id)

    def start_node(self, index: int, env: dict[str, str] | None = None) -> Node:
        node = self.launch_node(index, env)
        self.wait_until_up(node)
        return node

    def launch_node(self, index: int, env: dict[str, str] | None = None) -> Node:
        """Start node `index` (on 127.0.0.{index + 2}) without waiting for it."""
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
        if index < len(self.nodes):
            self.nodes[index] = node
        else:
            self.nodes.append(node)
        return node

    @staticmethod
    def wait_until_up(node: Node) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if node.process.poll() is not None:
                raise RuntimeError(f"{node.node_id} exited early:\n{node.log()}")
            try:
                if httpx.get(f"{node.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        node.process.kill()
        raise RuntimeError(f"{node.node_id} did not answer:\n{node.log()}")


@contextmanager
def fresh_cluster_name(redis_url: str = REDIS) -> Iterator[str]:
    """A cluster name of its own (keys `{name}:*`), its keys deleted afterwards."""
    name = f"test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        with contextlib.suppress(redis.RedisError):
            client = redis.Redis.from_url(redis_url)
            for key in client.scan_iter(f"{name}:*"):
                client.delete(key)
            client.close()


@contextmanager
def cluster_of(count: int, env: dict[str, str] | None = None,
               redis_url: str = REDIS) -> Iterator[Cluster]:
    """`count` nodes of a new cluster on a throwaway PostgreSQL database."""
    database = throwaway_database()
    with fresh_cluster_name(redis_url) as name, contextlib.ExitStack() as stack:
        stack.callback(database.drop)
        creds = json.loads(run_cli({**os.environ, "SALON_DATABASE_URL": database.url,
                                    "SALON_DATA_DIR": tempfile.mkdtemp()},
                                   "apps", "create", "test", "--json").stdout)
        cluster = Cluster(name, database, [], creds["account_id"], creds["app_id"],
                          creds["api_token"], redis_url)
        stack.callback(lambda: [node.stop() for node in cluster.nodes])
        for index in range(count):  # side by side: the database is migrated already
            cluster.launch_node(index, env)
        for node in cluster.nodes:
            cluster.wait_until_up(node)
        yield cluster


class RedisLink:
    """A TCP relay between one node and Redis that the test can cut, as a network
    partition would (run in the test's event loop)."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 6379)) -> None:
        self.target = target
        self.server: asyncio.base_events.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"redis://127.0.0.1:{port}/0"

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def cut(self) -> None:
        """Nothing passes any more: new connections are refused, open ones dropped."""
        if self.server is not None:
            self.server.close()
        for writer in self.writers:
            writer.transport.abort()
