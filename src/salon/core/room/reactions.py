"""Emoji reactions: a moment's applause, seen by everyone and kept by nobody.

A reaction is only an event (`reaction`), never room state: a late joiner has missed
nothing worth replaying. Only the emoji of `REACTIONS` are sent: a page can show each
one with a name for screen readers, and nobody can push arbitrary text (or a wall of
combining characters) over everyone's video. The sender gets its own reaction back like
everyone else, so every page shows exactly what the room saw.
"""

from datetime import datetime

from salon.core.clock import isoformat
from salon.core.room.errors import RoomError, invalid
from salon.core.room.outcome import Outcome
from salon.core.room.room import Room

#: The emoji a reaction may be, and their names (docs/protocol.md "Raised hands and
#: reactions"). The keys are exact strings: "❤️" is U+2764 U+FE0F.
REACTIONS: dict[str, str] = {
    "👍": "Thumbs up",
    "👏": "Clapping hands",
    "❤️": "Red heart",
    "😂": "Tears of joy",
    "😮": "Surprised",
    "🎉": "Party popper",
    "🤔": "Thinking",
    "👎": "Thumbs down",
}


def react(room: Room, peer_id: str, emoji: str, now: datetime) -> Outcome:
    """Send one reaction to every joined peer, the sender included."""
    peer = room.actor(peer_id)
    if peer.hidden:
        raise RoomError("FORBIDDEN", "Hidden participants cannot react.")
    if emoji not in REACTIONS:
        raise invalid(f"'emoji' must be one of {' '.join(REACTIONS)}.")
    to = room.everyone()
    out = Outcome(reply={"delivered_to": len(to)})
    out.send("reaction", {"peer_id": peer.peer_id, "emoji": emoji,
                          "timestamp": isoformat(now)}, to)
    return out
