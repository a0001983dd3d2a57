"""Connected meetings at run time: the room lists, moves, broadcasts, close-all, timers.

A family is a parent meeting and its children, each run by its own `RoomHost`. This is
the one place that acts across rooms. The database is the source of truth for who the
children are (`salon.services.connected_meetings`); `learn` keeps a copy here so that
joins and leaves can update everyone's room lists without a query.

A move never happens here: it asks the peer's own connection (the mover the gateway
registered on the host) to leave its room and join the target, between two of its
requests, so nothing that peer sends is lost or lands in the wrong room.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from salon.core.clock import isoformat, utcnow
from salon.core.room import Peer, RoomError
from salon.core.room.connected import check_alter, check_switch, check_target, sees_rooms
from salon.live.host import RoomHost, event_text
from salon.services.connected_meetings import Family

if TYPE_CHECKING:
    from salon.live.rooms import Rooms

log = logging.getLogger("salon.live")

#: Room lists go out at most this often per family: a close-all moving dozens of peers
#: is one update, not dozens.
NOTIFY_DELAY_SECS = 0.1
#: How long a timer request waits for the timer to be kept (a cluster's Redis).
KEEP_SECS = 2.0


@dataclass
class FamilyState:
    parent_id: str
    parent_title: str | None
    app_id: str
    children: dict[str, str | None] = field(default_factory=dict)
    ends_at: float | None = None  # the timer, as a wall-clock epoch
    warn_secs: float | None = None
    timer: list[asyncio.TimerHandle] = field(default_factory=list)
    pending: asyncio.TimerHandle | None = None
    keeping: asyncio.Future[None] | None = None  # the timer being kept (`timer_keeper`)

    @property
    def ids(self) -> list[str]:
        return [self.parent_id, *self.children]


class ConnectedMeetings:
    def __init__(self, rooms: "Rooms") -> None:
        self.rooms = rooms
        self.families: dict[str, FamilyState] = {}
        self.parents: dict[str, str] = {}  # child id -> parent id
        self._tasks: set[asyncio.Future[Any]] = set()
        #: In a cluster: keeps a family's timer as it is now (set or gone) where the node
        #: that carries the family on after a failover finds it (salon.cluster).
        self.timer_keeper: Callable[[FamilyState], Awaitable[None]] | None = None

    # --- what the database says ----------------------------------------------------------

    def learn(self, found: Family) -> FamilyState:
        parent = found.parent
        state = self.families.get(parent.id)
        if state is None:
            state = self.families[parent.id] = FamilyState(parent.id, parent.title,
                                                           parent.app_id)
        state.parent_title = parent.title
        for gone in set(state.children) - {c.id for c in found.children}:
            self.parents.pop(gone, None)
        state.children = {c.id: c.title for c in found.children}
        for child_id in state.children:
            self.parents[child_id] = parent.id
        for meeting_id in state.ids:
            host = self.rooms.get(meeting_id)
            if host is not None:
                host.parent_meeting_id = parent.id if meeting_id != parent.id else None
        return state

    def family_of(self, meeting_id: str) -> FamilyState | None:
        return self.families.get(self.parents.get(meeting_id, meeting_id))

    # --- the room lists --------------------------------------------------------------------

    def hosts(self, family: FamilyState) -> list[RoomHost]:
        return [h for h in (self.rooms.get(i) for i in family.ids) if h is not None]

    def state(self, family: FamilyState) -> dict[str, Any]:
        """`{parent_meeting, meetings, timer}`: each room with who is in it now."""
        def room(meeting_id: str, title: str | None) -> dict[str, Any]:
            host = self.rooms.get(meeting_id)
            people = [] if host is None else [
                {"id": p.participant_id, "peer_id": p.peer_id,
                 "custom_participant_id": p.custom_participant_id,
                 "preset_name": p.preset_name, "display_name": p.name,
                 "display_picture_url": p.picture}
                for p in host.room.joined if not p.hidden]
            return {"id": meeting_id, "title": title, "participants": people}
        timer = None if family.ends_at is None else {
            "ends_at": isoformat_epoch(family.ends_at),
            "in_secs": round(max(family.ends_at - time.time(), 0.0), 1)}
        return {"parent_meeting": room(family.parent_id, family.parent_title),
                "meetings": [room(i, t) for i, t in family.children.items()],
                "timer": timer}

    def roster_changed(self, host: RoomHost) -> None:
        family = self.family_of(host.meeting_id)
        if family is not None:
            self.notify(family)

    def notify(self, family: FamilyState) -> None:
        """Send the lists soon to everyone in the family who may see them."""
        if family.pending is None:
            family.pending = asyncio.get_running_loop().call_later(
                NOTIFY_DELAY_SECS, self._flush, family)

    def _flush(self, family: FamilyState) -> None:
        family.pending = None
        if self.families.get(family.parent_id) is not family:
            return
        self._send(family, "connected_meetings.updated", self.state(family), sees_rooms)

    def _send(self, family: FamilyState, event: str, data: dict[str, Any], who=None,
              but: str | None = None) -> int:
        text = event_text(event, data)  # serialized once for every room
        sent = 0
        for host in self.hosts(family):
            for peer in host.room.joined:
                if peer.peer_id != but and (who is None or who(peer)):
                    link = host.links.get(peer.peer_id)
                    if link is not None:
                        link.send(text)
                        sent += 1
        return sent

    # --- moving ----------------------------------------------------------------------------

    def locate(self, family: FamilyState, peer_id: str) -> tuple[RoomHost, Peer] | None:
        for host in self.hosts(family):
            peer = host.room.peers.get(peer_id)
            if peer is not None and peer.joined:
                return host, peer
        return None

    def move(self, family: FamilyState, actor: Peer | None, to_meeting_id: str, *,
             peer_ids: list[str] = (), participant_ids: list[str] = (),
             preset_name: str | None = None) -> tuple[list[str], list[asyncio.Future[Any]]]:
        """Hosts move others (all named peers must be in the family, or nothing moves).
        Participants are named by id or custom id: all their joined peers move, and each
        must have one, or nothing moves.
        Returns the peers on their way, and the moves to await if one wants to."""
        check_alter(actor)
        if to_meeting_id not in family.ids:
            raise RoomError("NOT_FOUND", f"No connected meeting {to_meeting_id} here.")
        found: dict[str, tuple[RoomHost, Peer]] = {}
        for peer_id in peer_ids:
            located = self.locate(family, peer_id)
            if located is None:
                raise RoomError("NOT_FOUND", f"No peer {peer_id} in these meetings.")
            found[peer_id] = located
        wanted, seen = set(participant_ids), set()
        for host in self.hosts(family):
            for peer in host.room.joined:
                named = {peer.participant_id, peer.custom_participant_id} & wanted
                if named:
                    found[peer.peer_id] = (host, peer)
                    seen |= named
        if unknown := [pid for pid in dict.fromkeys(participant_ids) if pid not in seen]:
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise RoomError("NOT_FOUND", "No peer of these participant_ids is joined in the "
                            f"meeting or its rooms: {', '.join(unknown[:10])}{more}.")
        return self._go({pid: hp[0] for pid, hp in found.items()
                         if hp[0].meeting_id != to_meeting_id},
                        to_meeting_id, preset_name, actor)

    def switch(self, family: FamilyState, host: RoomHost, actor: Peer,
               to_meeting_id: str) -> list[asyncio.Future[Any]]:
        """A peer moves itself, as its switch permissions allow."""
        check_switch(actor, to_parent=to_meeting_id == family.parent_id)
        check_target(host.meeting_id, to_meeting_id, family.ids)
        return self._go({actor.peer_id: host}, to_meeting_id, None, actor)[1]

    def plan_moves(self, family: FamilyState, actor: Peer | None,
                   plan: dict[str, list[str]]) -> tuple[dict[str, list[str]],
                                                        list[asyncio.Future[Any]]]:
        """Assign by hand or by a round-robin plan: `{meeting_id: [peer_ids]}`."""
        check_alter(actor)
        for meeting_id, peer_ids in plan.items():
            if meeting_id not in family.ids:
                raise RoomError("NOT_FOUND", f"No connected meeting {meeting_id} here.")
            for peer_id in peer_ids:
                if self.locate(family, peer_id) is None:
                    raise RoomError("NOT_FOUND", f"No peer {peer_id} in these meetings.")
        moving, tasks = {}, []
        for meeting_id, peer_ids in plan.items():
            ids = [p for p in peer_ids
                   if self.locate(family, p)[0].meeting_id != meeting_id]  # type: ignore[index]
            went, futures = self.move(family, actor, meeting_id, peer_ids=ids)
            moving[meeting_id] = went
            tasks += futures
        return moving, tasks

    def close_all(self, family: FamilyState, by: Peer | None,
                  children: list[str] | None = None) -> tuple[list[str], list[asyncio.Future[Any]]]:
        """Everyone in the (named) child rooms goes back to the parent; the timer stops.
        salon's own bots (hidden recorder-preset peers: recorders, transcribers) stay:
        each belongs to its room's session."""
        check_alter(by)
        if children is None and self._cancel_timer(family):
            self._timer_cancelled(family, by)
        chosen = set(children if children is not None else family.children)
        peers = {p.peer_id: h for h in self.hosts(family) if h.meeting_id in chosen
                 for p in h.room.joined if not p.is_bot}
        return self._go(peers, family.parent_id, None, by)

    def _go(self, peers: dict[str, RoomHost], to_meeting_id: str, preset_name: str | None,
            by: Peer | None) -> tuple[list[str], list[asyncio.Future[Any]]]:
        moving, tasks = [], []
        for peer_id, host in peers.items():
            mover = host.movers.get(peer_id)
            if mover is None:
                continue  # its connection dropped: it is not carried anywhere
            moving.append(peer_id)
            task = asyncio.ensure_future(mover(to_meeting_id, preset_name,
                                               by.peer_id if by else None))
            self._tasks.add(task)
            task.add_done_callback(self._done)
            tasks.append(task)
        return moving, tasks

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("moving a peer failed", exc_info=task.exception())

    # --- host tools ------------------------------------------------------------------------

    def broadcast(self, family: FamilyState, by: Peer | None, meeting_id: str | None,
                  message: str, payload: Any = None) -> int:
        """A message to every joined peer of every room (but the sender); how many."""
        check_alter(by)
        return self._send(family, "connected_meetings.broadcast", {
            "message": message, "payload": payload,
            "from_peer_id": by.peer_id if by else None,
            "from_name": by.name if by else None, "from_meeting_id": meeting_id,
            "timestamp": isoformat(utcnow())}, but=by.peer_id if by else None)

    def set_timer(self, family: FamilyState, by: Peer | None, close_in_secs: float,
                  warn_secs: float) -> dict[str, Any]:
        """Close every room after `close_in_secs`, warning `warn_secs` before."""
        check_alter(by)
        if not family.children:
            raise RoomError("CONFLICT", "There are no connected meetings to close.")
        self._cancel_timer(family)
        self._start_timer(family, time.time() + close_in_secs, warn_secs)
        data = {"ends_at": isoformat_epoch(family.ends_at), "in_secs": close_in_secs,
                "warn_secs": warn_secs, "by_peer_id": by.peer_id if by else None}
        # not to the one who set it: its reply says the same, and comes before any event
        self._send(family, "connected_meetings.timer", data, but=by.peer_id if by else None)
        self.notify(family)
        return data

    def restore_timer(self, family: FamilyState, ends_at: float, warn_secs: float,
                      least_secs: float = 0.0) -> None:
        """Carry on a timer its family's dead node had set (a cluster's failover). One
        that ran out meanwhile closes the rooms in `least_secs`, once peers are back."""
        if family.timer:
            return  # set again here already: the newer one stands
        ends_at = max(ends_at, time.time() + least_secs)
        self._start_timer(family, ends_at, warn_secs)
        self.notify(family)

    def _start_timer(self, family: FamilyState, ends_at: float, warn_secs: float) -> None:
        loop = asyncio.get_running_loop()
        close_in = max(ends_at - time.time(), 0.0)
        family.ends_at, family.warn_secs = ends_at, warn_secs
        family.timer = [loop.call_later(max(close_in - warn_secs, 0.0), self._warn, family),
                        loop.call_later(close_in, self._expire, family)]
        self._tell_timer(family)

    def _tell_timer(self, family: FamilyState) -> None:
        if self.timer_keeper is not None:
            family.keeping = asyncio.ensure_future(self.timer_keeper(family))
            self._tasks.add(family.keeping)
            family.keeping.add_done_callback(self._tasks.discard)

    async def timer_kept(self, family: FamilyState) -> None:
        """Until the family's timer is kept (a request that sets it is answered then: a
        node killed right after its answer still leaves the timer behind)."""
        if family.keeping is not None and not family.keeping.done():
            await asyncio.wait([family.keeping], timeout=KEEP_SECS)

    def cancel_timer(self, family: FamilyState, by: Peer | None) -> dict[str, Any]:
        check_alter(by)
        had = self._cancel_timer(family)
        if had:
            self._timer_cancelled(family, by)
        return {"cancelled": had}

    def _timer_cancelled(self, family: FamilyState, by: Peer | None) -> None:
        """Tell the family (but the one who cancelled: it has the reply)."""
        self._send(family, "connected_meetings.timer",
                   {"ends_at": None, "by_peer_id": by.peer_id if by else None},
                   but=by.peer_id if by else None)
        self.notify(family)

    def _cancel_timer(self, family: FamilyState) -> bool:
        had = bool(family.timer)
        for handle in family.timer:
            handle.cancel()
        family.timer, family.ends_at, family.warn_secs = [], None, None
        if had:
            self._tell_timer(family)
        return had

    def _warn(self, family: FamilyState) -> None:
        if family.ends_at is not None:
            self._send(family, "connected_meetings.closing", {
                "ends_at": isoformat_epoch(family.ends_at),
                "in_secs": round(max(family.ends_at - time.time(), 0.0), 1)})

    def _expire(self, family: FamilyState) -> None:
        family.timer, family.ends_at, family.warn_secs = [], None, None
        self._tell_timer(family)
        self.close_all(family, None)
        self.notify(family)

    def shut_down(self) -> None:
        """The process stops: timers stop here without being reported gone, so that a
        cluster's next node for the family carries them on."""
        for family in self.families.values():
            for handle in family.timer:
                handle.cancel()
            family.timer = []
            if family.pending is not None:
                family.pending.cancel()


def isoformat_epoch(epoch: float) -> str | None:
    return isoformat(datetime.fromtimestamp(epoch, UTC))


async def wait(tasks: list[asyncio.Future[Any]]) -> None:
    """Await moves (REST answers once they are done); failures are logged, not raised."""
    if tasks:
        await asyncio.gather(*tasks, return_exceptions=True)
