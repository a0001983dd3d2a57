"""A received voice's last seconds, from before this session heard it (`media.backlog`,
salon's bots only; docs/protocol.md "Captions").

The server answers in RTP timestamps of the stream it sends this session; aiortc numbers
a received frame's `pts` from the first packet it got. So a backlog is asked for in the
first numbering and handed back in the second, running straight into the frames the
session yields (those before the first packet have a `pts` below 0).
"""

import base64
import fractions
from typing import Any

import av

from salon.client.realtime import RealtimeClient
from salon.media.embedded import hooks

#: RTP timestamps are 32-bit and wrap.
RTP_MASK = 0xFFFFFFFF
#: Opus's RTP clock.
OPUS_CLOCK = 48000


async def fetch(peer: RealtimeClient, receiver, track_id: str, before: int,
                since: float | None = None) -> list[tuple[float, av.Packet]]:
    """The packets of `track_id` (received by aiortc's `receiver`) before the frame whose
    `pts` is `before`: (the server's arrival time in unix seconds, the Opus packet),
    oldest first; only those the server received at or after `since`, if given."""
    origin = hooks.rtp_timestamp_origin(receiver) if receiver is not None else None
    if origin is None:
        raise ValueError(f"nothing of {track_id} has been received yet")
    raw = (before + origin) & RTP_MASK
    extra: dict[str, Any] = {"since": since} if since is not None else {}
    reply = await peer.request("media.backlog", track_id=track_id, before=raw, **extra)
    kept = []
    for item in reply["packets"]:
        packet = av.Packet(base64.b64decode(item["data"]))
        packet.pts = before - ((raw - item["timestamp"]) & RTP_MASK)
        packet.time_base = fractions.Fraction(1, OPUS_CLOCK)
        kept.append((item["at"], packet))
    return kept
