"""The last seconds of a published voice, for a transcriber that joins after them.

The server starts a session's transcriber as the session starts, but the transcriber is
a process of its own that must start, join and negotiate its media first: about 1.3 s on
a quiet machine, a few seconds on a busy one. What the first speaker said meanwhile
would be in no caption and no transcript. So each published audio track keeps the Opus
packets of its last `BACKLOG_SECS` — only those it forwarded: nothing said while muted
or not allowed to speak is kept — and a transcriber, once the track's first packet has
reached it, asks for those before it (`media.backlog`, docs/protocol.md "Captions"),
numbered as its own stream, so they run straight into what it receives.
"""

from collections import deque

#: How far back a voice is kept: more than a transcriber's start on a busy machine.
BACKLOG_SECS = 5.0
#: Opus sends a packet every 20 ms (fewer with DTX), or every 10 ms where a sender asks
#: for it (`ptime`): 500 in 5 s.
MAX_PACKETS = 500
_MASK = 0xFFFFFFFF


class VoiceBacklog:
    """(arrival unix time, RTP timestamp, Opus payload) of a track's latest packets."""

    __slots__ = ("_packets",)

    def __init__(self) -> None:
        self._packets: deque[tuple[float, int, bytes]] = deque(maxlen=MAX_PACKETS)

    def keep(self, timestamp: int, payload: bytes, now: float) -> None:
        self._packets.append((now, timestamp, payload))

    def before(self, timestamp: int, now: float, since: float | None = None
               ) -> list[tuple[float, int, bytes]]:
        """The packets of the last `BACKLOG_SECS` (and received at or after `since`,
        unix seconds) whose RTP timestamp comes before `timestamp` (the source's numbering,
        modulo 2³²), oldest first."""
        oldest = now - BACKLOG_SECS if since is None else max(now - BACKLOG_SECS, since)
        return [kept for kept in self._packets
                if kept[0] >= oldest and 0 < (timestamp - kept[1]) & _MASK < 0x80000000]


def as_received(backlog: VoiceBacklog, ts_offset: int, before: int, now: float,
                since: float | None = None) -> list[tuple[float, int, bytes]]:
    """The backlog before `before`, a timestamp of a subscriber's own stream (whose
    timestamps are the source's plus `ts_offset`), in that stream's numbering."""
    source = (before - ts_offset) & _MASK
    return [(at, (timestamp + ts_offset) & _MASK, payload)
            for at, timestamp, payload in backlog.before(source, now, since)]
