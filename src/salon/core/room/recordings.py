"""Recordings as a room's peers see them: which are active (for an indicator), and
`recording.updated` on each change of status. Starting and steering recordings is the
control plane's (`salon.services.recordings`); the room only tells its peers."""

from typing import Any

from salon.core.recordings import ACTIVE
from salon.core.room.errors import forbidden
from salon.core.room.outcome import Outcome
from salon.core.room.room import Room


def may_record(room: Room, peer_id: str) -> None:
    """A peer may start, stop, pause and resume recordings only with `can_record`."""
    if not room.actor(peer_id).permissions.can_record:
        raise forbidden("start, stop, pause or resume recordings", "can_record")


def recordings_updated(room: Room, views: list[dict[str, Any]], by_peer_id: str | None,
                       reply: dict[str, Any] | None = None) -> Outcome:
    """Recordings of this meeting changed status: remember the active ones and tell
    every joined peer, one `recording.updated` each (after `reply`, to the caller)."""
    out = Outcome(reply=reply or {})
    for view in views:
        if view["status"] in ACTIVE:
            room.recordings[view["id"]] = view
        else:
            room.recordings.pop(view["id"], None)
        out.send("recording.updated", {"recording": view, "by_peer_id": by_peer_id},
                 room.everyone())
    return out
