"""A connected-meeting timer outlives its node (docs/cluster.md "Failover").

The timer that closes a family's breakout rooms lives in the family's node
(`salon.live.connected`). In a cluster, the node that holds the family's lease also
keeps it in Redis, `{cluster}:family-timer:{parent_meeting_id}` = `{"ends_at": epoch,
"warn_secs": s}`, expiring a minute after it runs out. When a node carries on a room of
the family after its node died (or was drained), it sets the timer again from there:
the rooms close when they were meant to, and a timer that ran out while the family had
no node closes them a few seconds after the takeover, once its peers are back.
"""

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

from salon.live.connected import FamilyState
from salon.live.failover import Orphan
from salon.live.host import RoomHost
from salon.services import connected_meetings

if TYPE_CHECKING:
    from salon.cluster.node import ClusterNode

log = logging.getLogger(__name__)

#: A kept timer is dropped this long after it ran out.
KEPT_AFTER_SECS = 60
#: A timer that ran out while the family had no node closes the rooms this long after a
#: node carries the family on (its peers resume meanwhile).
LATE_CLOSE_SECS = 5.0
#: How long a stopping node waits for its last writes.
STOP_SECS = 2.0


def timer_key(cluster: str, parent_id: str) -> str:
    return f"{cluster}:family-timer:{parent_id}"


class FamilyTimers:
    def __init__(self, node: "ClusterNode") -> None:
        self.node = node
        self._tasks: set[asyncio.Task[None]] = set()
        node.rooms.connected.timer_keeper = self._keep
        node.rooms.adoption_listeners.append(self._adopted)

    def _spawn(self, work, name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- kept while set ----------------------------------------------------------------------

    async def _keep(self, family: FamilyState) -> None:
        """Write the family's timer as it is now (set, or gone): writes may finish in any
        order, and each writes the latest state. Only the family's node speaks for it: a
        node that lost the family keeps quiet."""
        if not self.node.leases.holds(family.parent_id):
            return
        key = timer_key(self.node.registry.cluster, family.parent_id)
        try:
            if family.ends_at is None:
                await self.node.redis.delete(key)
            else:
                kept_for = max(1, int(family.ends_at - time.time()) + KEPT_AFTER_SECS)
                await self.node.redis.set(key, json.dumps(
                    {"ends_at": family.ends_at, "warn_secs": family.warn_secs or 0.0}),
                    ex=kept_for)
        except Exception:
            log.exception("cluster: could not keep the timer of family %s", family.parent_id)

    # --- carried on --------------------------------------------------------------------------

    def _adopted(self, host: RoomHost, orphan: Orphan) -> None:
        self._spawn(self._restore(host), f"salon-family-timer-restore-{host.meeting_id}")

    async def _restore(self, host: RoomHost) -> None:
        parent_id = (host.parent_meeting_id
                     or self.node.families.parents.get(host.meeting_id) or host.meeting_id)
        try:
            kept = await self.node.redis.get(timer_key(self.node.registry.cluster, parent_id))
            if kept is None:
                return
            timer = json.loads(kept)
            async with self.node.rooms.database.session() as db:
                found = await connected_meetings.family(db, host.app_id, host.meeting_id)
            family = self.node.rooms.connected.learn(found)
            if family.children:
                self.node.rooms.connected.restore_timer(
                    family, float(timer["ends_at"]), float(timer["warn_secs"]),
                    least_secs=LATE_CLOSE_SECS)
                log.info("cluster: carried on the timer of family %s", family.parent_id)
        except Exception:
            log.exception("cluster: could not carry on the timer of meeting %s's family",
                          host.meeting_id)

    async def stop(self) -> None:
        """Let the writes under way land (a timer set just before a drain is kept)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=STOP_SECS)
