"""Forwarding at RTP level: one `Published` per incoming track hands each of its RTP
packets to one `Downstream` per subscriber (downstream.py), which rewrites the header
(SSRC, payload type, sequence number, timestamp, extension ids) and sends it on
(docs/media-design.md §6.4). Nothing is reassembled, depacketized, queued or
repacketized on the way. A VP8 packet's descriptor is read here once for all
subscribers (temporal layers, §6.9).
"""

import asyncio
import logging
import time
from collections import deque

from aiortc import MediaStreamTrack

from salon.media.backend import TrackInfo
from salon.media.embedded import hooks, rtp, vp8
from salon.media.embedded.downstream import Downstream

log = logging.getLogger("salon.media")

#: While a keyframe request is outstanding, further requests share it: a publisher
#: hears at most one keyframe request per this many seconds, however many ask.
PLI_PENDING_SECS = 1.0
#: How many recent frame arrival times a track keeps for its fps figure.
FPS_WINDOW = 64
#: The packets since the latest keyframe a video track keeps, so that a subscriber
#: that becomes ready starts at once from it (a longer picture group is not kept).
GOP_PACKETS = 300
#: How often a video publisher hears its bitrate cap (RTCP REMB).
REMB_INTERVAL_SECS = 1.0
#: The least a publisher is capped at by its subscribers' estimates, and the change in
#: the cap that is worth telling it: encoders restart on a new target (aiortc's at any
#: change over 10 %, with a keyframe), so a noisy estimate must not reach them.
DEMAND_FLOOR_BPS = 300_000
CAP_HYSTERESIS = 0.25
#: Per-packet overhead counted into layer rates (RTP header, SRTP tag, UDP/IP).
PACKET_OVERHEAD = 50
#: Layer rates are measured over at least this long.
LAYER_WINDOW_SECS = 1.0


#: The figures `Published.figures` and `Downstream.figures` report, per kind of media.
FIGURES = ("received_packets", "received_bytes", "received_frames", "keyframes",
           "lost_packets", "rtx_received", "nacks_sent", "plis_sent", "not_forwarded",
           "forwarded_packets", "forwarded_bytes", "forward_dropped", "nack_resent",
           "keyframe_requests")


class Retired:
    """Figures of tracks and slots that have closed, per kind, so that totals over the
    live ones plus these never go back (`salon.observability` reads them)."""

    def __init__(self) -> None:
        self.by_kind: dict[str, dict[str, int]] = {
            kind: dict.fromkeys(FIGURES, 0) for kind in ("audio", "video")}

    def add(self, kind: str, figures: dict[str, int]) -> None:
        into = self.by_kind[kind]
        for name, value in figures.items():
            into[name] += value


class Published:
    """One published track: the RTP packets of its receiver, fanned out to subscribers."""

    def __init__(self, info: TrackInfo, track: MediaStreamTrack, receiver) -> None:
        self.info = info
        self.track = track
        self.receiver = receiver
        self.is_video = track.kind == "video"
        #: VP8: packets are read for temporal layers (vp8.parse), once for all subscribers.
        self.is_vp8 = info.codec.lower() == "video/vp8"
        #: Payload bytes per temporal layer (index = TID) since the start, and whether the
        #: stream has layers at all (the selector measures rates from these).
        self.layer_bytes = [0, 0, 0, 0]
        self.layered = False
        self._layer_mark: tuple[float, list[int]] | None = None
        self._layer_rates: tuple[float, ...] = (0.0,)
        #: Bits/s each subscriber's slot can take (Downlink.apply): the publisher's cap
        #: follows the best-served one.
        self.demand: dict[int, float] = {}
        self.forwarding = False  # set_forwarding / enforce; off until the room says on
        self.allowed = True      # enforce: False stops forwarding whatever the soft state
        self.downstreams: set[Downstream] = set()
        self.media_ssrc: int | None = None
        #: The negotiated codec: only its payload type is forwarded, and its parameters
        #: (H.264 profile) are what every subscriber must be offered.
        self.payload_types: frozenset[int] = frozenset()
        self.codec_parameters: dict = {}
        self.pli_pending_since: float | None = None
        self.levels: list[int] = []
        self.saw_vad = False
        self.frames = self.keyframes = self.bytes = self.plis_sent = self.dropped = 0
        #: Retransmissions (RTX) from the publisher, forwarded to fill subscribers' gaps.
        self.recovered = 0
        self.arrivals: deque[float] = deque(maxlen=FPS_WINDOW)
        #: Packets of a revoked kind are dropped at RTP level (see `drop_after`).
        self.dropping = False
        self._dropper: asyncio.TimerHandle | None = None
        #: Bits/s this publisher may send (video), and when it is next told so.
        self.max_bitrate: int | None = None
        self._cap: int | None = None  # the cap last told
        self._next_remb = 0.0
        #: (packet, starts a keyframe, descriptor) since the latest keyframe, while
        #: forwarding.
        self.gop: list[tuple[object, bool, vp8.Descriptor | None]] | None = None
        #: Where this track's figures go when it closes (set by its MediaPeer).
        self.retired: Retired | None = None
        hooks.forward_rtp(receiver, self._on_rtp)
        hooks.drop_bitrate_estimator(receiver)

    @property
    def active(self) -> bool:
        return self.forwarding and self.allowed

    def _on_rtp(self, packet, retransmission: bool) -> None:
        if packet.payload_type not in self.payload_types:
            return  # another codec of the m-line (RED, FEC): not forwarded
        now = time.time()
        # A retransmitted keyframe start arrives late: never a place to start anyone.
        keyframe = not retransmission and rtp.starts_keyframe(self.info.codec, packet.payload)
        desc = vp8.parse(packet.payload) if self.is_vp8 else None
        tid = 0
        if desc is not None and desc.tid is not None:
            self.layered = True
            tid = desc.tid
        if not retransmission:
            self.layer_bytes[tid] += len(packet.payload) + PACKET_OVERHEAD
        self._observe(packet, retransmission, keyframe, now)
        if not self.active:
            if packet.marker or not self.is_video:
                self.dropped += 1  # frames not forwarded, as `frames` counts them
            return
        if self.is_video and not retransmission:
            if keyframe:
                self.gop = [(packet, True, desc)]
            elif self.gop is not None:
                self.gop.append((packet, False, desc))
                if len(self.gop) > GOP_PACKETS:
                    self.gop = None
        if self.downstreams:
            self._fan_out(packet, retransmission, keyframe, desc, now)

    def _observe(self, packet, retransmission: bool, keyframe: bool, now: float) -> None:
        """Counters, audio levels for the active speaker, the publisher's bitrate cap."""
        self.media_ssrc = packet.ssrc  # PLIs and REMB name this one, not RTX's
        level = packet.extensions.audio_level  # None on an unwrapped retransmission
        if level is not None:
            vad, dbov = level
            self.saw_vad = self.saw_vad or bool(vad)
            self.levels.append(dbov if (vad or not self.saw_vad) else 127)
        if retransmission:
            self.recovered += 1
        else:
            self.bytes += len(packet.payload)
            if packet.marker or not self.is_video:
                self.frames += 1
                self.arrivals.append(now)
        if self.is_video:
            if keyframe:
                self.keyframes += 1
                self.pli_pending_since = None
            if now >= self._next_remb and self.max_bitrate:
                self._next_remb = now + REMB_INTERVAL_SECS
                hooks.send_remb(self.receiver, self._publisher_cap(), packet.ssrc)

    def _fan_out(self, packet, retransmission: bool, keyframe: bool,
                 desc: vp8.Descriptor | None, now: float) -> None:
        send_time = rtp.abs_send_time(now)
        level = packet.extensions.audio_level
        level_value = rtp.audio_level(*level) if level is not None else None
        gated = False
        for downstream in self.downstreams:
            if downstream.forward(packet, keyframe, send_time, level_value, now, desc,
                                  retransmission):
                if self.gop is not None and not retransmission:
                    # Ready and waiting: start it from the latest keyframe (this packet
                    # included) rather than wait a round trip for a new one.
                    for kept, starts, kept_desc in self.gop:
                        downstream.forward(kept, starts, send_time, None, now, kept_desc)
                else:
                    gated = True
        if gated:
            # A publisher may ignore a keyframe request (Chrome sometimes does):
            # ask again while anyone waits; request_keyframe spaces the asks.
            self.request_keyframe()

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
        if not self.active:
            self.gop = None  # never start anyone from a picture before the pause
        if self.active and not was:
            for downstream in self.downstreams:
                downstream.resume()  # never resume on a delta frame
            self.request_keyframe()

    def drop_after(self, seconds: float) -> None:
        """Forwarding stopped with the right to send; if the client keeps sending for
        `seconds`, drop its packets at RTP level too (before any bookkeeping)."""
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

    def _publisher_cap(self) -> int:
        """What the publisher may send: `max_bitrate`, or what its best-served subscriber
        takes (at least DEMAND_FLOOR_BPS), changed only by more than CAP_HYSTERESIS."""
        cap = int(self.max_bitrate or 0)
        if self.demand:
            cap = int(min(cap, max(DEMAND_FLOOR_BPS, max(self.demand.values()))))
        if self._cap is None or abs(cap - self._cap) > CAP_HYSTERESIS * self._cap:
            self._cap = cap
        return self._cap

    def layer_rates(self, now: float) -> tuple[float, ...]:
        """Measured bits/s of layers 0..n together, for n up to the highest layer seen
        (one entry for a stream without temporal layers)."""
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

    def fps(self) -> float:
        if len(self.arrivals) < 2:
            return 0.0
        span = self.arrivals[-1] - self.arrivals[0]
        if span <= 0 or time.time() - self.arrivals[-1] > 1.0:
            return 0.0
        return round((len(self.arrivals) - 1) / span, 2)

    def stats(self) -> dict:
        return {**self.info.wire(), "frames": self.frames, "keyframes": self.keyframes,
                "bytes": self.bytes, "fps": self.fps(), "plis": self.plis_sent,
                "dropped": self.dropped, "recovered": self.recovered,
                "forwarding": self.active,
                "refused_at_rtp": self.dropping,
                "subscribers": len(self.downstreams)}

    def figures(self) -> dict[str, int]:
        """Counters for /metrics (read at scrape time, nothing kept per packet for it)."""
        received, lost = hooks.receiver_packets(self.receiver)
        return {"received_packets": received, "received_bytes": self.bytes,
                "received_frames": self.frames, "keyframes": self.keyframes,
                "lost_packets": lost, "rtx_received": self.recovered,
                "nacks_sent": hooks.nacks_sent(self.receiver),
                "plis_sent": self.plis_sent, "not_forwarded": self.dropped}

    def _retire(self) -> None:
        if self.retired is not None:
            self.retired.add(self.track.kind, self.figures())
            self.retired = None  # once

    async def close(self) -> None:
        self._retire()
        if self._dropper is not None:
            self._dropper.cancel()
        for downstream in list(self.downstreams):
            downstream.detach()
