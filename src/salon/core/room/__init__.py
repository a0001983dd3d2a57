"""The live-session state machine: peers, waiting room, stage, host controls.

`Room` holds one live session's state and changes it only through its command methods.
Each command checks permissions, changes state, and returns an `Outcome`: the reply for
the caller, the events to fan out (with their recipients already decided), the records
to persist and the connections to close. It does no I/O and reads the time from its
caller, so every rule here is unit-tested without sockets or a database; the realtime
gateway (`salon.realtime`) owns the sockets, timers and storage and carries outcomes out.
"""

from salon.core.room import audience, hands, host, reactions, stage  # noqa: E402  (command modules)
from salon.core.room.errors import RoomError
from salon.core.room.outcome import Close, Outcome, Outgoing, Record
from salon.core.room.peer import MediaKind, Peer, PeerStatus, StageStatus
from salon.core.room.room import Room

__all__ = [
    "Close",
    "MediaKind",
    "Outcome",
    "Outgoing",
    "Peer",
    "PeerStatus",
    "Record",
    "Room",
    "RoomError",
    "StageStatus",
    "audience",
    "hands",
    "host",
    "reactions",
    "stage",
]
