"""Room leases: which node runs each live meeting, held in Redis and renewed.

A lease is the key `{cluster}:room:{meeting_id}` holding the owner's node id, set with
`SET NX PX` (only one node can take a free lease) and renewed by a compare-and-set script
(only the holder can extend or drop it). The holder renews every third of the lease's
life. It also keeps its own deadline: the moment its last successful renewal's lease
would expire, counted from when the renewal was *sent*, less a safety margin for clock
drift. Past that deadline the node stops acting for the room even if Redis never said
no — it cannot know whether another node took the lease meanwhile (a partition between
this node and Redis). So two nodes never act for one room at once, as long as clocks
run at about the same rate (Redis counts the expiry in its own time).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from redis.asyncio import Redis

log = logging.getLogger(__name__)

#: Extend the lease only if we still hold it.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
#: Drop the lease only if we still hold it.
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""
#: The part of a lease's life not trusted locally (clock drift, a slow event loop).
SAFETY = 0.2


def lease_key(cluster: str, meeting_id: str) -> str:
    return f"{cluster}:room:{meeting_id}"


class RoomLeases:
    """The leases this node holds, kept alive; `on_lost(meeting_id)` is called (once) for
    a lease this node can no longer be sure of."""

    def __init__(self, redis: Redis, cluster: str, node_id: str, ttl_secs: float,
                 on_lost: Callable[[str], None]) -> None:
        self.redis = redis
        self.cluster = cluster
        self.node_id = node_id
        self.ttl_ms = int(ttl_secs * 1000)
        self.on_lost = on_lost
        #: meeting id -> the monotonic time until which this node may act for it.
        self.held: dict[str, float] = {}
        self._renew = redis.register_script(_RENEW)
        self._release = redis.register_script(_RELEASE)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._keep(), name="salon-room-leases")

    async def stop(self, release: bool = True) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if release:
            for meeting_id in list(self.held):
                with contextlib.suppress(Exception):
                    await self.release(meeting_id)

    def holds(self, meeting_id: str) -> bool:
        """Whether this node may act for the meeting now."""
        until = self.held.get(meeting_id)
        return until is not None and time.monotonic() < until

    async def owner(self, meeting_id: str) -> str | None:
        value = await self.redis.get(lease_key(self.cluster, meeting_id))
        return value.decode() if isinstance(value, bytes) else value

    async def claim(self, meeting_id: str) -> bool:
        """Take the meeting's lease if nobody holds it (or this node already does)."""
        if self.holds(meeting_id):
            return True
        sent = time.monotonic()
        taken = await self.redis.set(lease_key(self.cluster, meeting_id), self.node_id,
                                     nx=True, px=self.ttl_ms)
        if not taken:
            if await self.owner(meeting_id) != self.node_id:
                return False
            if not await self._renew(keys=[lease_key(self.cluster, meeting_id)],
                                     args=[self.node_id, self.ttl_ms]):
                return False
        self.held[meeting_id] = self._deadline(sent)
        return True

    async def release(self, meeting_id: str) -> None:
        """Give the lease up (the room is over, or handed over at a drain)."""
        self.held.pop(meeting_id, None)
        await self._release(keys=[lease_key(self.cluster, meeting_id)], args=[self.node_id])

    def forget(self, meeting_id: str) -> None:
        """Stop renewing without telling Redis (the lease then runs out)."""
        self.held.pop(meeting_id, None)

    def _deadline(self, sent: float) -> float:
        return sent + self.ttl_ms / 1000 * (1 - SAFETY)

    async def _keep(self) -> None:
        period = self.ttl_ms / 1000 / 3
        while True:
            await asyncio.sleep(min(period, 0.5))
            await self._renew_all()
            self._drop_expired()

    async def _renew_all(self) -> None:
        if not self.held:
            return
        sent = time.monotonic()
        ids = list(self.held)
        try:
            async with asyncio.timeout(self.ttl_ms / 1000 / 3):
                async with self.redis.pipeline(transaction=False) as pipe:
                    for meeting_id in ids:
                        await self._renew(keys=[lease_key(self.cluster, meeting_id)],
                                          args=[self.node_id, self.ttl_ms], client=pipe)
                    results = await pipe.execute()
        except Exception as error:  # Redis away: the deadlines decide (_drop_expired)
            log.warning("cluster: renewing %d room lease(s) failed: %s", len(ids), error)
            return
        for meeting_id, renewed in zip(ids, results, strict=True):
            if meeting_id not in self.held:
                continue  # released meanwhile
            if renewed:
                self.held[meeting_id] = self._deadline(sent)
            else:
                self._lose(meeting_id, "taken or expired in Redis")

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for meeting_id, until in list(self.held.items()):
            if now >= until:
                self._lose(meeting_id, "not renewed in time")

    def _lose(self, meeting_id: str, why: str) -> None:
        self.held.pop(meeting_id, None)
        log.warning("cluster: lost the lease of meeting %s (%s); handing it over",
                    meeting_id, why)
        try:
            self.on_lost(meeting_id)
        except Exception:
            log.exception("handing over meeting %s failed", meeting_id)
