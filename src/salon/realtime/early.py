"""A peer back after a failover that the new node has no record of (docs/cluster.md
"Failover"): its node died moments after it joined, before the join was saved, so the
adopted session does not expect it. Its signed resume token proves who it is; it is
seated as itself (same peer id), as a peer joining now.

Why not save each join before its reply instead: that puts a database round trip in
every join, and a webinar's thousands of joins are recorded in batches
(docs/large-rooms.md). This costs one lookup, only for such a peer, only after a
failover.
"""

from typing import Any

from salon.core.room import Peer, RoomError
from salon.live.failover import peer_on_record
from salon.live.host import RoomHost
from salon.live.link import PeerLink
from salon.live.rooms import Rooms


async def seat_early(rooms: Rooms, cluster: Any, host: RoomHost, peer: Peer, token: str,
                     link: PeerLink) -> dict[str, Any]:
    """Seat `peer` (built with its old peer id) once no stay of it is on record; the
    room and the lease are checked again after that lookup, the one await of the join
    after its placement. Raises RoomError when it cannot be seated."""
    if await peer_on_record(rooms.database, peer.peer_id):
        raise RoomError("RESUME_FAILED", "This peer cannot be resumed (it left); join again "
                        "without 'resume'.")
    if (rooms.get(host.meeting_id) is not host or host.handed_over
            or (cluster is not None and not cluster.leases.holds(host.meeting_id))):
        raise RoomError("MEETING_MOVING", "This meeting is moving to another node; join "
                        "again in a moment.")
    if not host.may_seat_early(peer.peer_id, peer.participant_id, token):
        raise RoomError("RESUME_FAILED", "This peer cannot be resumed (gone or wrong resume "
                        "token); join again without 'resume'.")
    # No peer cap: a resume is the same peer, and never counts again (docs/protocol.md).
    return host.seat_early(peer, link)
