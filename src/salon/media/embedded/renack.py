"""Asking again for packets still missing (RTCP NACK, RFC 4585 §6.2.1).

aiortc's receivers ask once for each gap they see: when that retransmission is lost
too, nothing asks again, the gap stays, and video stops until the next keyframe. With
loss on both hops of an SFU (a publisher's link and a subscriber's), a lost
retransmission is ordinary. libwebrtc asks again every round trip, a limited number of
times; so does this, every `AGAIN_SECS` (longer than a round trip on the links the SFU
is built for), at most `MAX_ASKS` times per packet. Missing packets also age out of
aiortc's `NackGenerator` (128 packets).

Pure bookkeeping over the caller's clock (tests/test_media_renack.py); the server's
forwarding receivers (`hooks.forward_rtp`) and the Python client's (`hooks.renack`) use
it.
"""

#: How long after asking the missing packets are asked for again.
AGAIN_SECS = 0.1
#: How many times a packet is asked for at most (the first ask included).
MAX_ASKS = 5


class Renack:
    """When to ask again for the missing packets of one stream."""

    __slots__ = ("_asked", "_last")

    def __init__(self) -> None:
        self._asked: dict[int, int] = {}  # sequence number -> times asked
        self._last = float("-inf")

    def asked(self, missing: set[int], now: float) -> None:
        """The receiver asked for `missing` just now (a new gap)."""
        self._last = now
        for seq in missing:
            self._asked[seq] = self._asked.get(seq, 0) + 1

    def due(self, missing: set[int], now: float) -> list[int]:
        """The missing packets to ask for again now (empty: none, or not yet)."""
        if not missing or now - self._last < AGAIN_SECS:
            return []
        asked = self._asked
        for seq in [s for s in asked if s not in missing]:
            del asked[seq]  # arrived, or aged out
        again = sorted(s for s in missing if asked.get(s, 0) < MAX_ASKS)
        if again:
            self.asked(set(again), now)
        return again
