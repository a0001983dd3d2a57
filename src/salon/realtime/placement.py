"""Where a meeting runs, for the gateway in cluster mode (docs/cluster.md): a join for a
meeting another node runs is refused with where to go."""

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from salon.cluster.node import ClusterNode, websocket_url
from salon.live.host import CLOSE_HANDED_OVER
from salon.store.models import Meeting

log = logging.getLogger("salon.realtime")

#: The meeting runs on another node (REDIRECT): join there, at the error's `url`.
CLOSE_REDIRECT = 4012
#: How long a move waits for a room that is on its way to this node (a breakout room
#: some other node ran apart from its parent, being handed over here).
MOVE_WAIT_SECS = 4.0


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str
    close_code: int
    details: dict[str, Any] = field(default_factory=dict)


#: The meeting is between nodes (its node is gone or stopping, or this node's hold on it
#: just lapsed): join again in a moment.
MOVING = Refusal("MEETING_MOVING", "This meeting is moving to another node; join again in "
                 "a moment.", CLOSE_HANDED_OVER, {"retry_after": 1})


async def refusal(cluster: ClusterNode, meeting: Meeting) -> Refusal | None:
    """None when this node runs the meeting (claiming it if nobody does), else why the
    join goes elsewhere (docs/protocol.md "Connecting")."""
    try:
        elsewhere = await cluster.place(meeting)
    except Exception as error:  # Redis away: this node cannot know who runs what
        log.warning("cluster: placing meeting %s failed: %s", meeting.id, error)
        return Refusal("CLUSTER_UNAVAILABLE", "This node cannot reach its cluster right now; "
                       "connect to another node.", CLOSE_HANDED_OVER)
    if elsewhere is None:
        return None
    if elsewhere.address is None:
        return MOVING
    return Refusal("REDIRECT", "This meeting runs on another node; connect there.",
                   CLOSE_REDIRECT, {"url": websocket_url(elsewhere.address),
                                    "address": elsewhere.address})


async def runs_here(cluster: ClusterNode, meeting: Meeting) -> bool:
    """A move keeps the peer's connection, so the room moved to must run on this node
    too (a family runs on one node, `salon.cluster.families`; a free room is taken
    here). A room on its way here — another node handing it over — is waited for, up to
    MOVE_WAIT_SECS. The caller checks `holds` again before it acts."""
    deadline = time.monotonic() + MOVE_WAIT_SECS
    while True:
        try:
            elsewhere = await cluster.place(meeting, here=True)
        except Exception as error:
            log.warning("cluster: placing meeting %s failed: %s", meeting.id, error)
            return False
        if elsewhere is None:
            return True
        if elsewhere.address is not None or time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
