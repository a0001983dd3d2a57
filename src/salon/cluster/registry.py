"""This node's entry in the cluster's Redis, and the list of live nodes.

Each node writes `{cluster}:node:{id}` (a JSON object: id, address, pid, host, started
and seen times, live rooms, joined peers, CPU) with an expiry of `ttl_factor`
heartbeats, and keeps its id in the set `{cluster}:nodes`. A node that stops deletes its
entry; one that dies (SIGKILL, a lost machine) drops out when the entry expires, and
the next listing takes its id out of the set. LiveKit's node registry works the same
way (a hash of node stats refreshed by each node).

The load is what placing a new room on the least-loaded node will read.
"""

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import orjson
from redis.asyncio import Redis

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NodeInfo:
    id: str
    #: Where peers and other nodes reach this node (`SALON_NODE_ADDRESS`).
    address: str
    host: str
    pid: int
    started_at: float  # Unix seconds
    seen_at: float
    rooms: int
    peers: int
    #: The node process's CPU over the last heartbeat, in % of one core.
    cpu_pct: float
    #: Stopping: its meetings are being handed over, and no new one goes there.
    draining: bool = False


@dataclass(frozen=True)
class Load:
    rooms: int
    peers: int


def nodes_key(cluster: str) -> str:
    return f"{cluster}:nodes"


def node_key(cluster: str, node_id: str) -> str:
    return f"{cluster}:node:{node_id}"


def new_node_id() -> str:
    """A name a person can read in `salon nodes`: host, pid and a few random letters."""
    return f"{socket.gethostname()}-{os.getpid()}-{os.urandom(2).hex()}"


class NodeRegistry:
    def __init__(self, redis: Redis, cluster: str, node_id: str, address: str,
                 load: Callable[[], Load], heartbeat_secs: float = 2.0,
                 ttl_factor: int = 3) -> None:
        self.redis = redis
        self.cluster = cluster
        self.node_id = node_id
        self.address = address
        self.load = load
        self.heartbeat_secs = heartbeat_secs
        self.ttl_ms = int(1000 * heartbeat_secs * ttl_factor)
        self.started_at = time.time()
        self.beats = 0
        #: Set when the node stops (salon.cluster.joining.drain_cluster).
        self.draining = False
        self._cpu = (time.monotonic(), time.process_time())
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listed before the node serves anything, if Redis answers; if not, the node
        starts all the same (`/readyz` says not ready) and keeps trying every beat."""
        try:
            await self.beat()
        except Exception as error:
            log.warning("cluster: cannot register this node in Redis yet: %s", error)
        self._task = asyncio.create_task(self._run(), name="salon-node-heartbeat")

    async def stop(self) -> None:
        """Leave the cluster: the entry goes at once, not at its expiry."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        with contextlib.suppress(Exception):
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.delete(node_key(self.cluster, self.node_id))
                pipe.srem(nodes_key(self.cluster), self.node_id)
                await pipe.execute()

    def info(self) -> NodeInfo:
        now, cpu = time.monotonic(), time.process_time()
        then, cpu_then = self._cpu
        self._cpu = (now, cpu)
        load = self.load()
        return NodeInfo(id=self.node_id, address=self.address, host=socket.gethostname(),
                        pid=os.getpid(), started_at=self.started_at, seen_at=time.time(),
                        rooms=load.rooms, peers=load.peers,
                        cpu_pct=round(100 * (cpu - cpu_then) / max(now - then, 1e-6), 1),
                        draining=self.draining)

    async def beat(self) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(node_key(self.cluster, self.node_id), orjson.dumps(asdict(self.info())),
                     px=self.ttl_ms)
            pipe.sadd(nodes_key(self.cluster), self.node_id)
            await pipe.execute()
        self.beats += 1

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_secs)
            try:
                await self.beat()
            except Exception as error:  # Redis away: retried next beat; the entry expires
                log.warning("cluster heartbeat failed: %s", error)


async def live_nodes(redis: Redis, cluster: str) -> list[NodeInfo]:
    """Every node whose entry has not expired, by id; ids of expired ones are forgotten."""
    ids = sorted(member.decode() if isinstance(member, bytes) else member
                 for member in await redis.smembers(nodes_key(cluster)))
    if not ids:
        return []
    entries = await redis.mget([node_key(cluster, node_id) for node_id in ids])
    gone = [node_id for node_id, entry in zip(ids, entries, strict=True) if entry is None]
    if gone:
        await redis.srem(nodes_key(cluster), *gone)
    return [NodeInfo(**orjson.loads(entry)) for entry in entries if entry is not None]
