"""One encoding of a published video track: the single stream of an ordinary publisher,
or one RTP stream (one RID, one SSRC) of a simulcast one (docs/media-design.md §6.10).

Each keeps what the forwarder needs per stream: its SSRC (keyframe requests name it),
its bytes per temporal layer (the selector's rates), its latest picture group (a slot
starts from it), its picture size (from VP8 keyframes: simulcast encodings are ordered
by it) and the slots that take it or wait to switch to it.

An encoding no slot takes is paused: its publisher is asked to stop sending it
(`Published.review_encodings`). While paused, and for a few windows after it is asked
back, its rates are the ones measured before the pause: the selector must still see what
it would cost, or nobody would ever ask for it again.
"""

from typing import TYPE_CHECKING

from salon.media.embedded import vp8

if TYPE_CHECKING:
    from salon.media.embedded.downstream import Downstream

#: Layer rates are measured over at least this long.
LAYER_WINDOW_SECS = 1.0
#: How many rate windows a resumed encoding's rates from before its pause still stand in
#: for its measured ones (a publisher takes a round trip and a keyframe to send again;
#: one that never does is then seen as not sending, and never chosen).
RESUME_GRACE_WINDOWS = 3


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
        #: Paused: its publisher was asked to stop sending it. `unneeded_since` is when
        #: its last slot left (None while it has some).
        self.paused = False
        self.unneeded_since: float | None = None
        #: When its publisher was told to send it again (monotonic), until it does.
        self.told_at: float | None = None
        self._kept_rates: tuple[float, ...] | None = None
        self._grace = 0

    def pause(self) -> None:
        """The publisher is asked to stop sending this encoding: keep what it cost."""
        self.paused = True
        if self._layer_rates[-1] > 0:
            self._kept_rates = self._layer_rates

    def resume(self, now: float) -> None:
        """The publisher is asked to send it again (`now`: monotonic)."""
        self.paused = False
        self.unneeded_since = None
        self.told_at = now
        self._grace = RESUME_GRACE_WINDOWS

    @property
    def rate(self) -> float:
        """Bits/s of the whole stream, as last measured (`layer_rates`)."""
        return self._layer_rates[-1]

    def layer_rates(self, now: float) -> tuple[float, ...]:
        """Measured bits/s of temporal layers 0..n together, for n up to the highest
        layer seen (one entry for a stream without temporal layers; (0.0,) for a stream
        that sent nothing in the last window, such as a simulcast encoding the
        publisher paused on its own); the rates from before a pause while this server has
        it paused, and for `RESUME_GRACE_WINDOWS` windows after it asked it back)."""
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
            if not self.paused and self._kept_rates is not None:
                self._grace -= 1
                if self._layer_rates[-1] > 0 or self._grace < 0:
                    self._kept_rates = None  # measured again, or never came back
        if self._layer_rates[-1] == 0 and self._kept_rates is not None:
            return self._kept_rates
        return self._layer_rates
