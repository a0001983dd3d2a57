"""One subscriber's view of a VP8 stream with temporal layers (L1T2, L1T3): which layers
it gets, and the PictureIDs and TL0PICIDXs it sees (docs/media-design.md §6.9).

Dropping a temporal layer needs no keyframe: a TLn frame references only frames of
layers ≤ n, so the frames kept still decode. Going down happens at the next frame start;
going up waits for a frame that does not depend on frames this subscriber never got: a
TL0 frame, or a frame flagged layer-sync (Y) at a layer it now takes. Either way the
switch is seamless: PictureIDs stay gapless (one less per dropped frame) and continue
across sources, TL0PICIDX continues across sources (TL0 is never dropped).

Pure bookkeeping: no I/O, no aiortc (tests/test_vp8_layers.py).
"""

from salon.media.embedded.vp8 import Descriptor

#: "Every layer": the limit of a subscriber that drops nothing.
ALL = 3
#: In-order PictureIDs kept for late packets (retransmissions) of frames already sent.
PICTURE_MEMORY = 64


class TemporalLayers:
    """The temporal-layer filter and PictureID renumbering of one subscriber's slot."""

    def __init__(self) -> None:
        #: The highest layer the subscriber should get (set by the selector).
        self.target = ALL
        #: The highest layer it gets now (follows `target` at safe frames).
        self.limit = ALL
        self.switches = 0
        self._pid_delta = 0
        self._tl0_delta = 0
        self._last_pid: int | None = None  # the last PictureID sent (ours)
        self._last_tl0: int | None = None
        self._rebase = False
        #: The source's PictureID -> ours, for packets of frames already numbered.
        self._pids: dict[int, int] = {}
        self._frame_pid: int | None = None  # the source's PictureID of the frame open now
        self._frame_kept = True

    def restart(self) -> None:
        """A new source (or a resume on a keyframe): continue our numbering from there."""
        self._rebase = True
        self._pids.clear()
        self._frame_pid = None

    def admit(self, d: Descriptor) -> bool:
        """Whether this packet goes to the subscriber; switches layers at frame starts."""
        if d.tid is None:
            return True
        if d.starts_frame and d.picture_id != self._frame_pid:
            self._frame_pid = d.picture_id
            if self.target < self.limit:
                self.limit = self.target
                self.switches += 1
            elif self.target > self.limit and (
                    d.tid == 0 or (d.layer_sync and d.tid <= self.target)):
                self.limit = self.target
                self.switches += 1
            self._frame_kept = d.tid <= self.limit
            if not self._frame_kept and d.picture_id is not None:
                self._pid_delta -= 1  # the next kept frame takes this one's number
            return self._frame_kept
        return d.tid <= self.limit

    def numbers(self, d: Descriptor, keyframe: bool) -> tuple[int | None, int | None]:
        """(PictureID, TL0PICIDX) to write into an admitted packet; None: leave as is."""
        pid = d.picture_id
        if pid is None:
            return None, None
        if self._rebase and keyframe:
            self._rebase = False
            if self._last_pid is not None:
                self._pid_delta = self._last_pid + 1 - pid
            if self._last_tl0 is not None and d.tl0picidx is not None:
                self._tl0_delta = self._last_tl0 + 1 - d.tl0picidx
        known = self._pids.get(pid)
        if known is not None:
            out = known
        else:
            out = (pid + self._pid_delta) & (0x7FFF if d.picture_id_bits == 15 else 0x7F)
            self._pids[pid] = out
            if len(self._pids) > PICTURE_MEMORY:
                del self._pids[next(iter(self._pids))]
            self._last_pid = out
        tl0 = None
        if d.tl0picidx is not None:
            tl0 = (d.tl0picidx + self._tl0_delta) & 0xFF
            self._last_tl0 = tl0
        if self._pid_delta == 0 and self._tl0_delta == 0:
            return None, None  # nothing renumbered: no copy of the payload
        return out, tl0
