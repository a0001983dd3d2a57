"""One encoding of a published video track: the single stream of an ordinary publisher,
or one RTP stream (one RID, one SSRC) of a simulcast one (docs/media-design.md §6.10).

Each keeps what the forwarder needs per stream: its SSRC (keyframe requests name it),
its bytes per temporal layer (the selector's rates), its latest picture group (a slot
starts from it), its picture size (from VP8 keyframes: simulcast encodings are ordered
by it) and the slots that take it or wait to switch to it.
"""

from typing import TYPE_CHECKING

from salon.media.embedded import vp8

if TYPE_CHECKING:
    from salon.media.embedded.downstream import Downstream

#: Layer rates are measured over at least this long.
LAYER_WINDOW_SECS = 1.0


class Encoding:
    """One RTP stream of a published track."""

    def __init__(self, rid: str | None = None) -> None:
        self.rid = rid
        self.ssrc: int | None = None
        #: (SSRC, sequence number) of the newest packet: a packet behind it is a resend.
        self.newest: tuple[int, int] | None = None
        #: Payload bytes (plus headers) per temporal layer (index = TID) since the start,
        #: and whether the stream has temporal layers at all.
        self.layer_bytes = [0, 0, 0, 0]
        self.layered = False
        self._layer_mark: tuple[float, list[int]] | None = None
        self._layer_rates: tuple[float, ...] = (0.0,)
        #: (packet, starts a keyframe, descriptor) since the latest keyframe, while
        #: forwarding.
        self.gop: list[tuple[object, bool, vp8.Descriptor | None]] | None = None
        #: Of the latest VP8 keyframe (0 until one is seen).
        self.width = self.height = 0
        self.keyframes = 0
        #: Simulcast: the slots on this encoding and the slots waiting to switch to it.
        self.slots: set[Downstream] = set()

    @property
    def rate(self) -> float:
        """Bits/s of the whole stream, as last measured (`layer_rates`)."""
        return self._layer_rates[-1]

    def layer_rates(self, now: float) -> tuple[float, ...]:
        """Measured bits/s of temporal layers 0..n together, for n up to the highest
        layer seen (one entry for a stream without temporal layers; (0.0,) for a stream
        that sent nothing in the last window, such as a simulcast encoding the
        publisher paused)."""
        mark = self._layer_mark
        if mark is None:
            self._layer_mark = (now, list(self.layer_bytes))
        elif now - mark[0] >= LAYER_WINDOW_SECS:
            rates = [(b - a) * 8 / (now - mark[0])
                     for a, b in zip(mark[1], self.layer_bytes, strict=True)]
            top = max((i for i, r in enumerate(rates) if r > 0), default=0)
            if not self.layered:
                top = 0
                rates[0] = sum(rates)
            total, cumulative = 0.0, []
            for rate in rates[:top + 1]:
                total += rate
                cumulative.append(total)
            self._layer_rates = tuple(cumulative)
            self._layer_mark = (now, list(self.layer_bytes))
        return self._layer_rates
