"""What the operator dashboard sees of an app's live rooms, and its waiting-room controls.

Read-only snapshots are built straight from the rooms of this process, without touching
the database: the dashboard polls them every few seconds, and that must cost a live
meeting next to nothing (bench/dashboard.py measures it). Admitting and denying act as
the operator (`by_peer_id` null), like the active-session controls in `operator.py`.
"""

from itertools import islice
from typing import Any

from salon.core.clock import isoformat, utcnow
from salon.core.errors import InvalidRequest, NotFound
from salon.core.room import Peer
from salon.core.room.errors import RoomError
from salon.live import operator
from salon.live.host import RoomHost
from salon.live.rooms import Rooms


def _peer(peer: Peer) -> dict[str, Any]:
    return {
        "peer_id": peer.peer_id,
        "participant_id": peer.participant_id,
        "custom_participant_id": peer.custom_participant_id,
        "name": peer.name,
        "preset_name": peer.preset_name,
        "stage_status": peer.stage_status.value,
        "audio": peer.media["audio"],
        "video": peer.media["video"],
        "screenshare": peer.media["screenshare"],
        "hidden": peer.hidden,
        "joined_at": isoformat(peer.joined_at),
        "hand_raised_at": isoformat(peer.hand_raised_at),
    }


def _waiting(peer: Peer) -> dict[str, Any]:
    view = peer.waiting_view()
    view.pop("picture", None)
    return view


def _session(room_host: RoomHost, peer_limit: int) -> dict[str, Any]:
    room = room_host.room
    joined = room.joined
    return {
        "meeting_id": room.meeting_id,
        "title": room.title,
        "session_id": room.session_id,
        "started_at": isoformat(room.session_started_at) if room.is_live else None,
        "peer_count": len(joined),
        "max_concurrent_participants": room.max_concurrent if room.is_live else 0,
        "peers": [_peer(p) for p in islice(joined, peer_limit)],
        "waiting": [_waiting(p) for p in room.waiting],
        "stage_requests": [_waiting(p) for p in joined
                           if p.stage_status.value == "REQUESTED_TO_JOIN_STAGE"],
        "recording": bool(room.recordings),
    }


def snapshot(rooms: Rooms, app_id: str, *, meeting_id: str | None = None,
             peer_limit: int = 200) -> dict[str, Any]:
    """Every room of the app with a live session or someone waiting, oldest session first."""
    hosts = [h for h in list(rooms.hosts.values())
             if h.app_id == app_id and (meeting_id is None or h.meeting_id == meeting_id)
             and (h.room.is_live or h.room.waiting)]
    hosts.sort(key=lambda h: (h.room.session_started_at is None,
                              h.room.session_started_at or utcnow(), h.meeting_id))
    return {"sessions": [_session(h, peer_limit) for h in hosts],
            "taken_at": isoformat(utcnow())}


def _room(rooms: Rooms, app_id: str, meeting_id: str) -> RoomHost:
    """The meeting's room on this node. A room whose waiting room is empty is still
    asked: `all` then admits nobody and a named peer is "not in the waiting room", as
    the realtime `waitlist.admit`/`waitlist.reject` answer."""
    room_host = rooms.get(meeting_id)
    if room_host is None or room_host.app_id != app_id:
        raise NotFound(f"Nobody is in the waiting room of meeting {meeting_id}.")
    return room_host


async def _decide(rooms: Rooms, app_id: str, meeting_id: str, peer_ids: list[str] | None,
                  admit: bool) -> list[str]:
    if peer_ids is not None and not peer_ids:
        raise InvalidRequest("Name peers in 'peer_ids', or set 'all' to true.")
    room_host = _room(rooms, app_id, meeting_id)
    room = room_host.room
    now = utcnow()
    try:
        reply = room_host.run(
            (lambda: room.admit_waiting(None, peer_ids, now)) if admit
            else (lambda: room.reject_waiting(None, peer_ids, now)))
    except RoomError as error:
        raise (NotFound if error.code == "NOT_FOUND" else InvalidRequest)(error.message) from None
    decided = reply["admitted" if admit else "rejected"]
    if decided:
        # As the kick routes do: answer once the joins (or departures) are on record, so
        # a GET /sessions that follows sees the session the admission started.
        await operator.settled(room_host)
    return decided


async def admit(rooms: Rooms, app_id: str, meeting_id: str,
                peer_ids: list[str] | None) -> list[str]:
    """Admit the named waiting peers (None: everyone waiting); their peer ids."""
    return await _decide(rooms, app_id, meeting_id, peer_ids, admit=True)


async def deny(rooms: Rooms, app_id: str, meeting_id: str,
               peer_ids: list[str] | None) -> list[str]:
    """Turn the named waiting peers away (`self.rejected`, socket closed 4004)."""
    return await _decide(rooms, app_id, meeting_id, peer_ids, admit=False)
