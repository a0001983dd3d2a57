"""The meeting's livestream as its peers see it: whether one runs (the join state's
`livestream`, for an indicator or a LIVESTREAM viewer's player) and `livestream.updated`
on each change of status. Starting and stopping is the control plane's
(`salon.services.livestreams`); the room only tells its peers."""

from typing import Any

from salon.core.livestreams import ACTIVE
from salon.core.room.errors import forbidden
from salon.core.room.outcome import Outcome
from salon.core.room.room import Room


def may_livestream(room: Room, peer_id: str) -> None:
    """A peer may start and stop the meeting's livestream only with `can_livestream`."""
    if not room.actor(peer_id).permissions.can_livestream:
        raise forbidden("start or stop the livestream", "can_livestream")


def livestream_updated(room: Room, view: dict[str, Any], by_peer_id: str | None,
                       reply: dict[str, Any] | None = None) -> Outcome:
    """The meeting's livestream changed status: remember it while it runs and tell
    every joined peer (after `reply`, to the caller). The same view twice (the caller's
    change and the runner's, both announced) is told once."""
    out = Outcome(reply=reply or {})
    if view == room.livestream_told:
        return out
    room.livestream_told = view
    room.livestream = view if view["status"] in ACTIVE else None
    out.send("livestream.updated", {"livestream": view, "by_peer_id": by_peer_id},
             room.everyone())
    return out
