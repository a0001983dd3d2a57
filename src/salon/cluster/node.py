"""This node in its cluster: where each meeting runs, and handing meetings over.

A meeting runs on the node holding its lease (`salon.cluster.leases`). A peer that
reaches any other node is redirected to it (docs/cluster.md explains why peers are
redirected rather than relayed). A meeting nobody runs goes to the least-loaded live
node — a connected meeting goes where its family runs (`salon.cluster.families`) — and
the node that claims it carries on the session a dead node left LIVE
(`salon.live.failover`).
"""

import asyncio
import contextlib
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from redis.asyncio import Redis
from sqlalchemy import select

from salon.cluster.elsewhere import Elsewhere
from salon.cluster.families import Families
from salon.cluster.family_timers import FamilyTimers
from salon.cluster.leases import RoomLeases
from salon.cluster.registry import NodeInfo, NodeRegistry, live_nodes, node_key
from salon.cluster.signals import RoomSignals
from salon.core.clock import utcnow
from salon.deadline import within
from salon.live.failover import orphaned_session
from salon.live.rooms import Rooms
from salon.services import session_records
from salon.store.models import Meeting, Session

log = logging.getLogger(__name__)

#: How often the cluster looks for sessions left LIVE that no node runs.
SWEEP_SECS = 30.0
#: The longest each step of a node's stop may take.
STOP_STEP_SECS = 5.0
#: How often the node lists the cluster's nodes.
LIST_SECS = 5.0


def _load(node: NodeInfo) -> int:
    """How loaded a node is, for placing a room: peers, and rooms as ten peers each (a
    room costs timers and records even when small). Ties go to the node placing the
    room: no redirect. CPU is not counted: a node's figure jumps while it starts, and
    peers are what a room's CPU follows."""
    return node.peers + 10 * node.rooms


def usable_address(address: object) -> bool:
    """Whether a node's address (from Redis) is one peers and requests may be sent to:
    http or https, a host and maybe a port, no credentials, path or query."""
    if not isinstance(address, str):
        return False
    parts = urlsplit(address)
    return (parts.scheme in ("http", "https") and bool(parts.hostname)
            and not parts.username and not parts.password and parts.path in ("", "/")
            and not parts.query and not parts.fragment)


def websocket_url(address: str) -> str:
    """The realtime endpoint of a node, from its base URL."""
    scheme, _, rest = address.partition("://")
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest.rstrip('/')}/realtime/v1"


class ClusterNode:
    def __init__(self, registry: NodeRegistry, rooms: Rooms, lease_secs: float,
                 stale_after_secs: float) -> None:
        self.registry = registry
        self.redis: Redis = registry.redis
        self.rooms = rooms
        self.node_id = registry.node_id
        #: Requests to the other nodes (REST passed to a meeting's node, gathered reads).
        self.http = httpx.AsyncClient(timeout=30.0)
        #: Room updates to and from the other nodes (salon.cluster.signals).
        self.signals = RoomSignals(self.redis, registry.cluster, registry.node_id, rooms)
        self.leases = RoomLeases(self.redis, registry.cluster, registry.node_id, lease_secs,
                                 on_lost=self._lease_lost)
        #: A LIVE session whose heartbeat is older than this, with no lease, is orphaned.
        self.stale_after = timedelta(seconds=stale_after_secs)
        #: Set at a drain: this node takes no meeting any more.
        self.draining = False
        #: Takeovers of meetings being adopted now, by meeting id (`adopt_once`).
        self._adopting: dict[str, asyncio.Future[None]] = {}
        #: The other nodes' addresses, as last listed (the meeting page's policy).
        self._known: list[str] = []
        self._sweeper: asyncio.Task[None] | None = None
        #: Connected meetings: a family's rooms run on one node.
        self.families = Families(self)
        #: A family's breakout timer, kept for the node that carries the family on.
        self.family_timers = FamilyTimers(self)
        rooms.retire_listeners.append(self._room_done)

    async def start(self) -> None:
        self.leases.start()
        await self.signals.start()
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="salon-orphan-sweep")

    async def stop(self) -> None:
        """Drain: take nothing new, hand every room over (peers reconnect elsewhere and
        resume), then give the leases up once the rooms' records are saved."""
        self.draining = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        self.rooms.hand_over_at_stop = True
        await self.rooms.stop()
        await self.families.stop()
        await self.family_timers.stop()
        # each step bounded: Redis or a peer node that does not answer must not keep the
        # process from exiting (the leases then run out by themselves)
        for step in (self.leases.stop(release=True), self.signals.stop(), self.http.aclose()):
            try:
                await within(step, STOP_STEP_SECS)
            except Exception as error:
                log.warning("cluster: a step of stopping did not finish: %r", error)

    # --- where a meeting runs -------------------------------------------------------------

    async def place(self, meeting: Meeting, here: bool = False) -> Elsewhere | None:
        """None when this node runs the meeting (claimed now if it was free), else where
        it runs (an address of None: nowhere reachable right now, join again soon).
        `here`: a free meeting is taken by this node whatever the load (a peer moving on
        its connection). The caller must check `leases.holds` again with no await in
        between before it acts for the meeting."""
        adopting = self._adopting.get(meeting.id)
        if adopting is not None:  # a takeover in progress: its peers are being listed
            await asyncio.shield(adopting)
        parent_id = getattr(meeting, "parent_meeting_id", None)
        if parent_id:
            return await self.families.place_child(meeting, parent_id, here)
        if self.leases.holds(meeting.id) and not self.draining:
            return None
        for _ in range(3):  # a lease may change hands between two reads
            owner = await self.leases.owner(meeting.id)
            if owner is None:
                target = None if here else await self.least_loaded()
                if target is not None and target.id != self.node_id:
                    return Elsewhere(target.id, target.address)
                if self.draining:
                    return Elsewhere(self.node_id, None)
                if await self.leases.claim(meeting.id):
                    await self.adopt_once(meeting)
                    return None
                continue
            if owner == self.node_id:
                if self.draining:  # handing its meetings over: soon free
                    return Elsewhere(owner, None)
                if await self.leases.claim(meeting.id):  # ours in Redis, not yet here
                    await self.adopt_once(meeting)
                    return None
                continue
            entry = await self.entry(owner)
            if entry is None or entry.get("draining"):
                return Elsewhere(owner, None)  # gone or stopping: its lease will be free
            return Elsewhere(owner, entry["address"])
        return Elsewhere("", None)

    async def owner_address(self, meeting_id: str) -> str | None:
        """The base URL of the node running the meeting, if another node runs it."""
        if self.leases.holds(meeting_id):
            return None
        owner = await self.leases.owner(meeting_id)
        if owner is None or owner == self.node_id:
            return None
        return await self._address(owner)

    async def addresses(self) -> list[str]:
        """Every live node's base URL, this node's first (the join reply's `nodes`)."""
        try:
            nodes = await live_nodes(self.redis, self.registry.cluster)
        except Exception:
            nodes = []
        others = [n.address for n in nodes
                  if n.id != self.node_id and not n.draining and usable_address(n.address)]
        self._known = others
        return [self.registry.address, *others]

    def origins(self) -> list[str]:
        """The other nodes' origins as the meeting page's `connect-src` names them (HTTP
        and WebSocket), from the last listing of the nodes (joins and sweeps list them)."""
        found = []
        for address in self._known:
            scheme, _, rest = address.partition("://")
            host = rest.split("/", 1)[0]
            found += [f"{scheme}://{host}", f"{'wss' if scheme == 'https' else 'ws'}://{host}"]
        return found

    async def entry(self, node_id: str) -> dict[str, Any] | None:
        """A node's registry entry, if it is live and its address is one a peer or a
        request may be sent to (http or https, a host and port, nothing else)."""
        raw = await self.redis.get(node_key(self.registry.cluster, node_id))
        if raw is None:
            return None
        entry = orjson.loads(raw)
        if not usable_address(entry.get("address")):
            log.warning("cluster: node %s has no usable address (%r)", node_id,
                        entry.get("address"))
            return None
        return entry

    async def _address(self, node_id: str) -> str | None:
        entry = await self.entry(node_id)
        return entry["address"] if entry is not None and not entry.get("draining") else None

    async def least_loaded(self) -> NodeInfo | None:
        """The node a free meeting (or family) should run on: the least loaded."""
        nodes = [n for n in await live_nodes(self.redis, self.registry.cluster)
                 if not n.draining and not (self.draining and n.id == self.node_id)
                 and usable_address(n.address)]
        if not nodes:
            return None
        return min(nodes, key=lambda n: (_load(n), n.id != self.node_id))

    def adopting(self, meeting_id: str) -> bool:
        """Whether the meeting is being taken over here right now."""
        return meeting_id in self._adopting

    async def adopt_once(self, meeting: Meeting | str, create: bool = True) -> None:
        """Adopt the meeting's orphaned session, once: joins that come meanwhile wait
        for it (`place`), so that none finds the room before its peers are listed. If it
        fails the lease is given up, so that the next join tries again (here or
        elsewhere) rather than starting a new session beside the orphan. `create`: make
        the room even when there is no session to carry on (a join is about to enter).
        A meeting id alone: the meeting is read in the takeover, which joins wait for."""
        meeting_id = meeting if isinstance(meeting, str) else meeting.id
        task = asyncio.ensure_future(self._adopt_orphan(meeting, create))
        self._adopting[meeting_id] = task  # before any await: no join slips in first

        def done(_: object) -> None:
            if self._adopting.get(meeting_id) is task:
                del self._adopting[meeting_id]

        task.add_done_callback(done)
        try:
            await asyncio.shield(task)
        except Exception:
            self.rooms.hand_over(meeting_id)
            with contextlib.suppress(Exception):
                await self.leases.release(meeting_id)
            raise

    async def _adopt_orphan(self, meeting: Meeting | str, create: bool = True) -> None:
        """A meeting just claimed may have a session its dead node left LIVE: carry it on."""
        if isinstance(meeting, str):
            async with self.rooms.database.session() as db:
                found = await db.get(Meeting, meeting)
            if found is None:
                return
            meeting = found
        host = self.rooms.get(meeting.id)
        if host is None and create:
            host = self.rooms.host_for(meeting)
        if host is not None and host.room.is_live:
            return
        orphan = await orphaned_session(self.rooms.database, meeting.id)
        if orphan is not None and orphan.last_seen_at < utcnow() - self.stale_after:
            # its node went long ago (a cluster that was down, say): end it, start afresh
            await self._end_stale(orphan.session_id)
            return
        if orphan is None:
            return
        host = self.rooms.host_for(meeting)
        if not host.room.is_live:
            log.warning("cluster: taking over live session %s of meeting %s (%d peers may "
                        "resume)", orphan.session_id, meeting.id, len(orphan.stays))
            host.adopt(orphan)
            self.rooms.adopted(host, orphan)

    def _room_done(self, meeting_id: str) -> None:
        """A room with nobody and no session left this node: free its lease (a parent's
        only once no room of its family is left here, and with a child's last room, its
        parent's: `salon.cluster.families`)."""
        parent = self.families.also_released(meeting_id)
        for lease in (meeting_id, parent):
            if lease is not None and lease in self.leases.held:
                task = asyncio.create_task(self._release(lease))
                task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def _release(self, meeting_id: str) -> None:
        # not back meanwhile, and no room of its family here
        if self.rooms.get(meeting_id) is None and not self.families.keeps(meeting_id):
            await self.leases.release(meeting_id)

    def _lease_lost(self, meeting_id: str) -> None:
        self.families.lease_lost(meeting_id)

    # --- orphans --------------------------------------------------------------------------

    async def _end_stale(self, session_id: str) -> None:
        async with self.rooms.database.session() as db:
            session = await db.get(Session, session_id)
            if session is not None and session.status == "LIVE":
                await session_records.end(db, session, session.last_seen_at,
                                          "ALL_PARTICIPANTS_LEFT", self.rooms.links)
                await db.commit()
        if self.rooms.on_commit:
            self.rooms.on_commit()

    async def _sweep_forever(self) -> None:
        """List the nodes every LIST_SECS (the meeting page's policy names them) and sweep
        orphaned sessions every SWEEP_SECS."""
        swept_at = -SWEEP_SECS
        while True:
            with contextlib.suppress(Exception):
                await self.addresses()
            try:
                await self.families.tidy()
            except Exception:
                log.exception("cluster: keeping families together failed")
            if time.monotonic() - swept_at >= SWEEP_SECS:
                swept_at = time.monotonic()
                try:
                    await self.sweep()
                except Exception:
                    log.exception("cluster: sweeping orphaned sessions failed")
            await asyncio.sleep(LIST_SECS)

    async def sweep(self) -> int:
        """End the LIVE sessions no node runs and no peer came back to: their heartbeat
        is stale and their meeting has no lease. They end at their last heartbeat."""
        cutoff = utcnow() - self.stale_after
        async with self.rooms.database.session() as db:
            stale = list(await db.scalars(select(Session).where(
                Session.status == "LIVE", Session.last_seen_at < cutoff)))
            ended = 0
            for session in stale:
                if await self.leases.owner(session.meeting_id) is not None:
                    continue
                await session_records.end(db, session, session.last_seen_at,
                                          "ALL_PARTICIPANTS_LEFT", self.rooms.links)
                ended += 1
            await db.commit()
        if ended:
            log.warning("cluster: ended %d session(s) no node runs any more", ended)
            if self.rooms.on_commit:
                self.rooms.on_commit()
        return ended
