"""Carrying on a session that another node ran until it failed (docs/cluster.md
"Failover").

The new owner knows what the database knows: the session's id and start, and the peers
that had joined and not left. It adopts the session as live with nobody present yet (the
keep-alive window runs, so a session nobody comes back to ends as any idle one does), and
each returning peer is seated again as the same peer without a second join on record.
What lived only in the old node's memory — the waiting room, the stage, raised hands,
collaborative stores, pinned chat messages — starts empty.
"""

from datetime import datetime

from salon.core.room.outcome import Outcome, Record
from salon.core.room.peer import Peer
from salon.core.room.room import Room


def adopt(room: Room, session_id: str, started_at: datetime, max_concurrent: int,
          now: datetime) -> None:
    """Make the room run the live session `session_id` (nobody in it yet)."""
    room.session_id = session_id
    room.session_started_at = started_at
    room.max_concurrent = max_concurrent
    room.idle_since = now


def restore(room: Room, peer: Peer, joined_at: datetime, now: datetime) -> Outcome:
    """Seat a peer of the adopted session again: everyone is told it joined, but its stay
    is the one on record since `joined_at`, not a new one."""
    out = room.connect(peer, now, admit=True)
    out.records = [record for record in out.records
                   if not (record.kind == Record.PEER_JOINED
                           and record.data.get("peer_id") == peer.peer_id)]
    peer.joined_at = joined_at
    return out
