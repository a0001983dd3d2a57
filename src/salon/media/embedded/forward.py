"""Forwarding without decoding: one `Published` per incoming track fans its encoded
frames out to one `Downstream` per subscriber (docs/media-design.md §6.4).

A `Downstream` is the track of one `sendonly` transceiver on a subscriber's connection.
It outlives the subscriptions it carries: when a subscription ends, the slot goes idle
and can carry the next track of the same kind and codec without a new m-line. aiortc's
sender ends for good if its track ever raises, so a slot never does until it is closed.
"""

import asyncio
import fractions
import logging
import time
from collections import deque

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from salon.media.backend import TrackInfo
from salon.media.embedded import hooks

log = logging.getLogger("salon.media")

QUEUE_FRAMES = {"audio": 50, "video": 30}  # about one second per subscriber and track
#: While a keyframe request is outstanding, further requests share it.
PLI_PENDING_SECS = 0.5
#: How many recent frame arrival times a track keeps for its fps figure.
FPS_WINDOW = 64


class Published:
    """One published track: read once from a pass-through receiver, fanned out."""

    def __init__(self, info: TrackInfo, track: MediaStreamTrack, receiver) -> None:
        self.info = info
        self.track = track
        self.receiver = receiver
        self.is_video = track.kind == "video"
        self.forwarding = False  # set_forwarding / enforce; off until the room says on
        self.allowed = True      # enforce: False stops forwarding whatever the soft state
        self.downstreams: set[Downstream] = set()
        self.media_ssrc: int | None = None
        #: The negotiated codec: its payload type tells media packets from RTX, and its
        #: parameters (H.264 profile) are what every subscriber must be offered.
        self.payload_types: frozenset[int] = frozenset()
        self.codec_parameters: dict = {}
        self.pli_pending_since: float | None = None
        self.levels: list[int] = []
        self.saw_vad = False
        self.frames = self.keyframes = self.bytes = self.plis_sent = self.dropped = 0
        self.arrivals: deque[float] = deque(maxlen=FPS_WINDOW)
        #: Packets of a revoked kind are dropped at RTP level (see `drop_after`).
        self.dropping = False
        self._dropper: asyncio.TimerHandle | None = None
        hooks.watch_rtp(receiver, self._on_rtp)
        self.task = asyncio.ensure_future(self._pump())

    @property
    def active(self) -> bool:
        return self.forwarding and self.allowed

    def _on_rtp(self, packet) -> None:
        if self.media_ssrc is None or packet.ssrc != self.media_ssrc:
            # RTX packets carry another payload type; only the media SSRC takes PLIs.
            if packet.payload_type in self.payload_types:
                self.media_ssrc = packet.ssrc
        level = packet.extensions.audio_level
        if level is not None and packet.ssrc == self.media_ssrc:
            vad, dbov = level
            self.saw_vad = self.saw_vad or bool(vad)
            self.levels.append(dbov if (vad or not self.saw_vad) else 127)

    async def _pump(self) -> None:
        try:
            while True:
                packet = await self.track.recv()
                self.frames += 1
                self.bytes += packet.size
                self.arrivals.append(time.monotonic())
                keyframe = getattr(packet, "is_keyframe", True)
                if self.is_video and keyframe:
                    self.keyframes += 1
                    self.pli_pending_since = None
                if not self.active:
                    self.dropped += 1
                    continue
                gated = False
                for downstream in self.downstreams:
                    downstream.push(packet, keyframe)
                    gated = gated or downstream.needs_keyframe
                if gated and not keyframe:
                    # A publisher may ignore a keyframe request (Chrome sometimes does):
                    # ask again while anyone waits; request_keyframe spaces the asks.
                    self.request_keyframe()
        except MediaStreamError:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("forwarding %s failed", self.info.track_id)
        finally:
            for downstream in list(self.downstreams):
                downstream.detach()

    def request_keyframe(self) -> None:
        """RTCP PLI to the publisher; concurrent asks share one outstanding request."""
        if not self.is_video or self.media_ssrc is None:
            return
        now = time.monotonic()
        if self.pli_pending_since is not None and now - self.pli_pending_since < PLI_PENDING_SECS:
            return
        self.pli_pending_since = now
        self.plis_sent += 1
        hooks.send_pli(self.receiver, self.media_ssrc)

    def set_active(self, *, forwarding: bool | None = None, allowed: bool | None = None) -> None:
        was = self.active
        if forwarding is not None:
            self.forwarding = forwarding
        if allowed is not None:
            self.allowed = allowed
        if self.active and not was:
            for downstream in self.downstreams:
                downstream.needs_keyframe = self.is_video  # never resume on a delta frame
            self.request_keyframe()

    def drop_after(self, seconds: float) -> None:
        """Forwarding stopped with the right to send; if the client keeps sending for
        `seconds`, drop its packets at RTP level too (no reassembly, no hand-off)."""
        if self._dropper is None and not self.dropping:
            loop = asyncio.get_running_loop()
            self._dropper = loop.call_later(seconds, self._drop)

    def _drop(self) -> None:
        self._dropper = None
        if not self.allowed:
            self.dropping = True
            hooks.drop_incoming(self.receiver)

    def stop_dropping(self) -> None:
        if self._dropper is not None:
            self._dropper.cancel()
            self._dropper = None
        if self.dropping:
            self.dropping = False
            hooks.accept_incoming(self.receiver)

    def fps(self) -> float:
        if len(self.arrivals) < 2:
            return 0.0
        span = self.arrivals[-1] - self.arrivals[0]
        if span <= 0 or time.monotonic() - self.arrivals[-1] > 1.0:
            return 0.0
        return round((len(self.arrivals) - 1) / span, 2)

    def stats(self) -> dict:
        return {**self.info.wire(), "frames": self.frames, "keyframes": self.keyframes,
                "bytes": self.bytes, "fps": self.fps(), "plis": self.plis_sent,
                "dropped": self.dropped, "forwarding": self.active,
                "refused_at_rtp": self.dropping,
                "subscribers": len(self.downstreams)}

    async def close(self) -> None:
        if self._dropper is not None:
            self._dropper.cancel()
        for downstream in list(self.downstreams):
            downstream.detach()
        self.task.cancel()
        try:
            await self.task
        except (asyncio.CancelledError, Exception):
            pass


class Downstream(MediaStreamTrack):
    """One subscriber's slot: a bounded queue its RTCRtpSender drains in pack mode."""

    def __init__(self, kind: str, codec_mime: str) -> None:
        super().__init__()
        self.kind = kind
        self.codec_mime = codec_mime
        self.queue: asyncio.Queue[av.Packet | None] = asyncio.Queue(QUEUE_FRAMES[kind])
        self.source: Published | None = None
        self.needs_keyframe = False
        self.sent = self.dropped = 0
        # Each source has its own RTP clock: keep ours continuous across sources.
        self._offset = 0
        self._last_pts: int | None = None
        self._rebase = False
        self.mid: str | None = None

    @property
    def idle(self) -> bool:
        return self.source is None

    def attach(self, source: Published) -> None:
        self.detach()
        self.source = source
        self.needs_keyframe = source.is_video
        self._rebase = self._last_pts is not None
        source.downstreams.add(self)
        source.request_keyframe()

    def detach(self) -> None:
        if self.source is not None:
            self.source.downstreams.discard(self)
            self.source = None
        while not self.queue.empty():
            self.queue.get_nowait()

    def push(self, packet: av.Packet, keyframe: bool) -> None:
        if self.needs_keyframe:
            if not keyframe:
                return  # would decode to garbage
            self.needs_keyframe = False
        if self.queue.full():  # this subscriber fell about a second behind
            self.dropped += self.queue.qsize()
            while not self.queue.empty():
                self.queue.get_nowait()
            if self.source is not None and self.source.is_video and not keyframe:
                self.needs_keyframe = True  # start over at a keyframe
                self.source.request_keyframe()
                return
        self.queue.put_nowait(packet)

    async def recv(self) -> av.Packet:
        if self.readyState != "live":
            raise MediaStreamError
        packet = await self.queue.get()
        if packet is None:
            raise MediaStreamError
        if self._rebase:
            step = 3000 if self.kind == "video" else 960  # one frame at 90 kHz / 48 kHz
            self._offset = self._last_pts + step - packet.pts
            self._rebase = False
        if self._offset:
            copy = av.Packet(bytes(packet))
            copy.pts = packet.pts + self._offset
            copy.time_base = packet.time_base or fractions.Fraction(1, 90000)
            packet = copy
        self._last_pts = packet.pts
        self.sent += 1
        return packet

    def close(self) -> None:
        self.detach()
        if not self.queue.full():
            self.queue.put_nowait(None)
        self.stop()
