"""A node joining its cluster at start and leaving it at stop (the app's lifespan)."""

import asyncio
import contextlib

from redis.asyncio import Redis

from salon.cluster.node import ClusterNode
from salon.cluster.registry import Load, NodeRegistry, new_node_id
from salon.deadline import within
from salon.live.rooms import Rooms
from salon.settings import Settings


async def join_cluster(settings: Settings, rooms: Rooms) -> NodeRegistry | None:
    """This node's registry entry, beating; None when no Redis is configured."""
    url = settings.redis_url.get_secret_value()
    if not url:
        return None
    redis = Redis.from_url(url)

    def load() -> Load:
        live, peers = rooms.load()
        return Load(rooms=live, peers=peers)

    registry = NodeRegistry(redis, settings.cluster_name, settings.node_id or new_node_id(),
                            settings.node_address or settings.public_base, load,
                            settings.node_heartbeat_secs)
    await registry.start()
    return registry


#: This process's running cluster nodes, for `begin_draining` (a signal handler's).
_RUNNING: list[ClusterNode] = []


async def run_meetings(settings: Settings, registry: NodeRegistry | None,
                       rooms: Rooms) -> ClusterNode | None:
    """Room leases, placement and failover for this node (None: one node, no cluster)."""
    if registry is None:
        return None
    node = ClusterNode(registry, rooms, settings.room_lease_secs,
                       stale_after_secs=3 * settings.session_heartbeat_secs)
    await node.start()
    _RUNNING.append(node)
    return node


def begin_draining(loop: asyncio.AbstractEventLoop) -> None:
    """The server was told to stop (SIGTERM): from now on no meeting is placed on this
    node, and the registry says so at once — before the server closes its sockets, so
    that no other node sends a peer here meanwhile. Safe to call from a signal handler."""
    for node in _RUNNING:
        node.draining = True
        node.registry.draining = True
        loop.call_soon_threadsafe(_announce, node)


def _announce(node: ClusterNode) -> None:
    task = asyncio.ensure_future(node.registry.beat())
    task.add_done_callback(lambda done: done.cancelled() or done.exception())


async def drain_cluster(registry: NodeRegistry | None, node: ClusterNode | None) -> None:
    """Stop: marked draining in the registry (no node places a meeting here any more),
    then every room handed over to the other nodes."""
    if registry is None or node is None:
        return
    registry.draining = True
    with contextlib.suppress(Exception):
        await within(registry.beat(), 2.0)
    await node.stop()
    if node in _RUNNING:
        _RUNNING.remove(node)


async def leave_cluster(registry: NodeRegistry | None) -> None:
    """Out of the registry (the node's jobs may be taken over from now on), and let
    Redis go."""
    if registry is not None:
        with contextlib.suppress(Exception):
            await within(registry.stop(), 5.0)
        with contextlib.suppress(Exception):
            await within(registry.redis.aclose(), 2.0)
