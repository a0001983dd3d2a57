"""Connected meetings in a cluster: a family (a parent meeting and its breakout rooms)
runs on one node (docs/cluster.md "Where a meeting runs").

Why one node: a family's live state — who is in which room, the moves under way, the
timer — is one in-process object (`salon.live.connected`), and a move keeps the peer's
connection; moving a peer to a room on another node would be a reconnect with its media
started over anyway. The cost: a family is bounded by what one node carries.

How it holds: **the parent's lease is the family's lease.** A node claims a child room's
lease only while it holds the parent's (placing a child whose parent nobody runs claims
the parent first, and carries on the parent's orphaned session if its node died), and
it keeps the parent's lease while it runs any room of the family, even with nobody in
the parent. Two nodes racing for a family's rooms race for the parent's lease first:
`SET NX` lets one win, and the other sends its peers there. A child that some node runs
without its parent (left over from a race, or the parent's lease lost alone) is *sent
home*: that node hands the room over (4013 to its peers, its records saved first) and
lets its lease go, and the peers resume on the parent's node, which carries the room's
session on as after a failover.
"""

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from salon.cluster.elsewhere import Elsewhere
from salon.deadline import within
from salon.live.host import RoomHost
from salon.store.models import Meeting

if TYPE_CHECKING:
    from salon.cluster.node import ClusterNode

log = logging.getLogger(__name__)

#: The room update a parent's node sends to a node running one of its children.
GO_HOME = "cluster.family_home"
#: How long a room sent home waits for its records to be saved before its lease goes.
SETTLE_SECS = 5.0


class Families:
    def __init__(self, node: "ClusterNode") -> None:
        self.node = node
        #: child meeting id -> parent meeting id, for the children this node placed.
        self.parents: dict[str, str] = {}
        #: Children being sent home now: no join or move may take them here meanwhile.
        self.leaving: set[str] = set()
        #: Leases held for no room here (nor kept for one) at the last `tidy`.
        self._bare: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        node.rooms.updates[GO_HOME] = self._told_to_go_home

    # --- placing a child ---------------------------------------------------------------------

    async def place_child(self, child: Meeting, parent_id: str,
                          here: bool) -> Elsewhere | None:
        """Where a connected meeting runs: on the node holding its parent's lease (taken
        here first if nobody holds it). None when this node runs it."""
        node, leases = self.node, self.node.leases
        if child.id in self.leaving:
            return Elsewhere(node.node_id, None)  # on its way out: join again in a moment
        if node.draining:
            return await self._elsewhere(parent_id)
        for _ in range(4):  # leases may change hands between two reads
            if leases.holds(parent_id):
                if leases.holds(child.id):
                    self.parents[child.id] = parent_id
                    return None
                owner = await leases.owner(child.id)
                if owner is not None and owner != node.node_id:
                    self.call_home(child.id, parent_id)  # a stray: its node sends it here
                    return Elsewhere(owner, None)
                self.parents[child.id] = parent_id  # for `keeps` and `also_released`
                if not await leases.claim(child.id):
                    if child.id not in leases.held:
                        self.parents.pop(child.id, None)
                    continue
                if not leases.holds(parent_id):  # the parent's lease went meanwhile
                    await leases.release(child.id)
                    continue
                await node.adopt_once(child)
                return None
            owner = await leases.owner(parent_id)
            if owner is None or owner == node.node_id:
                if owner is None and not here:
                    target = await node.least_loaded()
                    if target is not None and target.id != node.node_id:
                        return Elsewhere(target.id, target.address)
                if await leases.claim(parent_id):
                    await self.carry_on_parent(parent_id)
                continue
            if leases.holds(child.id):
                self.send_home(child.id)  # the family runs elsewhere: this room goes there
            entry = await node.entry(owner)
            if entry is None or entry.get("draining"):
                return Elsewhere(owner, None)  # gone or stopping: its lease will be free
            return Elsewhere(owner, entry["address"])
        return Elsewhere("", None)

    async def _elsewhere(self, parent_id: str) -> Elsewhere:
        """Where a child goes from a draining node: its parent's node, else the least
        loaded other node (which then takes the family)."""
        node = self.node
        owner = await node.leases.owner(parent_id)
        if owner is not None and owner != node.node_id:
            entry = await node.entry(owner)
            return Elsewhere(owner, entry["address"] if entry and not entry.get("draining")
                             else None)
        target = None if owner is not None else await node.least_loaded()
        if target is None:
            return Elsewhere(node.node_id, None)
        return Elsewhere(target.id, target.address)

    async def carry_on_parent(self, parent_id: str) -> None:
        """This node just took a parent's lease for one of its children: if the parent's
        node died with the session LIVE, carry it on here (the parent's peers resume
        here); otherwise the parent's room starts when someone joins it. Called right
        after the claim, with no await between: a join of the parent waits for this."""
        await self.node.adopt_once(parent_id, create=False)

    # --- keeping and letting go of the family's lease ----------------------------------------

    def keeps(self, meeting_id: str) -> bool:
        """Whether this node must keep `meeting_id`'s lease as its family's: it runs one
        of its children (or holds a child's lease)."""
        return meeting_id in self._kept()

    def _kept(self) -> set[str]:
        """The parents whose leases this node keeps for their rooms here."""
        kept = {h.parent_meeting_id for h in self.node.rooms.hosts.values()
                if h.parent_meeting_id}
        return kept | {self.parents[c] for c in self.node.leases.held if c in self.parents}

    def also_released(self, meeting_id: str) -> str | None:
        """The parent whose lease goes with a child room that is over here: the family
        has no room left on this node."""
        parent = self.parents.pop(meeting_id, None)
        if (parent is not None and parent in self.node.leases.held
                and self.node.rooms.get(parent) is None and not self.keeps(parent)):
            return parent
        return None

    def lease_lost(self, meeting_id: str) -> None:
        """A lease this node can no longer be sure of: the room is handed over, and with a
        parent's, every child room of it here too (the family moves as one)."""
        self.node.rooms.hand_over(meeting_id)
        self.parents.pop(meeting_id, None)  # a child's: its room is gone from here
        for child_id, parent in list(self.parents.items()):
            if parent == meeting_id and child_id in self.node.leases.held:
                self.send_home(child_id)

    # --- strays --------------------------------------------------------------------------------

    def call_home(self, child_id: str, parent_id: str) -> None:
        """Ask the node running `child_id` without its parent to send it here."""
        self.node.rooms.update(child_id, GO_HOME, {"parent_meeting_id": parent_id})

    def _told_to_go_home(self, host: RoomHost, data: dict[str, Any]) -> None:
        parent = data.get("parent_meeting_id")
        if (isinstance(parent, str) and host.parent_meeting_id == parent
                and not self.node.leases.holds(parent)):
            self.send_home(host.meeting_id)

    def send_home(self, child_id: str) -> None:
        """Hand a child room over so that its parent's node takes it (at most once at a
        time)."""
        if child_id in self.leaving:
            return
        self.leaving.add(child_id)
        task = asyncio.create_task(self._send_home(child_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send_home(self, child_id: str) -> None:
        rooms, leases = self.node.rooms, self.node.leases
        try:
            host = rooms.get(child_id)
            log.warning("cluster: meeting %s runs apart from its parent; handing it over to "
                        "the parent's node", child_id)
            rooms.hand_over(child_id)
            if host is not None:  # who is in it is on record before another node reads it
                with contextlib.suppress(Exception):
                    await within(host.recorder.settled(), SETTLE_SECS)
            self.parents.pop(child_id, None)
            with contextlib.suppress(Exception):
                await leases.release(child_id)
        finally:
            self.leaving.discard(child_id)

    async def tidy(self) -> None:
        """Now and then: a child room running here without its parent's lease takes the
        parent's (nobody holds it) or goes home (another node does); a parent's lease
        held for no room of the family here any more is let go."""
        node, leases = self.node, self.node.leases
        for host in list(node.rooms.hosts.values()):
            parent = host.parent_meeting_id
            if (not parent or host.meeting_id in self.leaving or leases.holds(parent)
                    or not leases.holds(host.meeting_id)):
                continue
            self.parents[host.meeting_id] = parent
            owner = await leases.owner(parent)
            if owner is None:
                if await leases.claim(parent):
                    await self.carry_on_parent(parent)
            elif owner != node.node_id:
                self.send_home(host.meeting_id)
        kept = self._kept()
        # A room on its way home keeps its lease until its records are settled
        # (`_send_home` releases it then).
        bare = {m for m in leases.held
                if node.rooms.get(m) is None and not node.adopting(m) and m not in kept
                and m not in self.leaving}
        for meeting_id in bare & self._bare:  # bare twice in a row: nothing is coming
            with contextlib.suppress(Exception):
                await leases.release(meeting_id)
        self._bare = bare

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
