"""Connected meetings (breakout rooms, reference §5.3): who may do what, and plans.

Pure rules, no I/O. The live layer (`salon.live.connected`) asks these before it moves
anyone, so every denial is decided in one place, and a refused request changes nothing.

- `can_alter_connected_meetings` ("Full Access"): create, rename, delete rooms, move
  anyone, broadcast to every room, close them all, set a timer.
- `can_switch_connected_meetings`: move oneself into a child room (from the parent or
  another child).
- `can_switch_to_parent_meeting`: move oneself back to the parent.
"""

from collections.abc import Sequence
from datetime import datetime

from salon.core.room.errors import RoomError, forbidden
from salon.core.room.outcome import Outcome
from salon.core.room.peer import Peer
from salon.core.room.room import Room

#: How many child rooms one parent may have, and how many one request may create.
MAX_CHILDREN = 50
#: Why a moved peer left its room (`peer.left` reason, session records).
MOVED = "moved"


def sees_rooms(peer: Peer) -> bool:
    """Whether a peer is told about the room lists (`connected_meetings.updated`): hosts
    and anyone who may switch rooms themselves."""
    c = peer.permissions.connected_meetings
    return (c.can_alter_connected_meetings or c.can_switch_connected_meetings
            or c.can_switch_to_parent_meeting)


def check_view(peer: Peer) -> None:
    if not sees_rooms(peer):
        raise forbidden("see the connected meetings", "connected_meetings.can_switch_connected_"
                        "meetings")


def check_alter(peer: Peer | None) -> None:
    """Full Access; `None` is the operator over REST, who may do everything."""
    if peer is not None and not peer.permissions.connected_meetings.can_alter_connected_meetings:
        raise forbidden("change connected meetings or move others",
                        "connected_meetings.can_alter_connected_meetings")


def check_switch(peer: Peer, to_parent: bool) -> None:
    """May this peer move itself? Hosts with Full Access always may."""
    c = peer.permissions.connected_meetings
    if c.can_alter_connected_meetings:
        return
    if to_parent and not c.can_switch_to_parent_meeting:
        raise forbidden("switch back to the parent meeting",
                        "connected_meetings.can_switch_to_parent_meeting")
    if not to_parent and not c.can_switch_connected_meetings:
        raise forbidden("switch to another connected meeting",
                        "connected_meetings.can_switch_connected_meetings")


def check_target(current_meeting_id: str, to_meeting_id: str, family: Sequence[str]) -> None:
    """The destination must be the parent or one of its children, and not here."""
    if to_meeting_id not in family:
        raise RoomError("NOT_FOUND", f"No connected meeting {to_meeting_id} here.")
    if to_meeting_id == current_meeting_id:
        raise RoomError("CONFLICT", "You are already in that meeting.")


def round_robin(peer_ids: Sequence[str], rooms: Sequence[str]) -> dict[str, list[str]]:
    """Deal peers into rooms in turn, in the order given: sizes differ by one at most."""
    if not rooms:
        raise RoomError("CONFLICT", "There are no connected meetings to assign people to.")
    plan: dict[str, list[str]] = {room: [] for room in rooms}
    for index, peer_id in enumerate(peer_ids):
        plan[rooms[index % len(rooms)]].append(peer_id)
    return plan


def assignable(room: Room, by: str | None) -> list[str]:
    """Who round-robin deals out of a room: joined, visible peers without Full Access
    (hosts stay where they are), but never the one assigning; in joining order."""
    peers = sorted((p for p in room.joined if p.peer_id != by and not p.hidden
                    and not p.permissions.connected_meetings.can_alter_connected_meetings),
                   key=lambda p: (p.joined_at is None, p.joined_at))
    return [p.peer_id for p in peers]


def move_out(room: Room, peer_id: str, now: datetime) -> Outcome:
    """The peer leaves this room for another one: a normal departure (reason `moved`,
    recorded, media closed) except that its connection stays open."""
    out = Outcome(reply={"left": True})
    room.depart(room.peer(peer_id), now, MOVED, out)
    return out
