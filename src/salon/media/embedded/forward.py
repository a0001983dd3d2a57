"""Forwarding at RTP level: one `Published` per incoming track hands each of its RTP
packets to one `Downstream` per subscriber, which rewrites the header (SSRC, payload
type, sequence number, timestamp, extension ids) and sends it on (docs/media-design.md
§6.4). Nothing is reassembled, depacketized, queued or repacketized on the way.

A `Downstream` is the track of one `sendonly` transceiver on a subscriber's connection.
It outlives the subscriptions it carries: when a subscription ends, the slot goes idle
and can carry the next track of the same kind and codec without a new m-line; its
sequence numbers and timestamps stay continuous across sources. aiortc's sender loop
waits on the slot's `recv`, which returns only when the slot closes.
"""

import asyncio
import logging
import random
import time
from collections import deque

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from salon.media.backend import TrackInfo
from salon.media.embedded import hooks, rtp, vp8
from salon.media.embedded.layers import TemporalLayers

log = logging.getLogger("salon.media")

#: While a keyframe request is outstanding, further requests share it: a publisher
#: hears at most one keyframe request per this many seconds, however many ask.
PLI_PENDING_SECS = 1.0
#: How many recent frame arrival times a track keeps for its fps figure.
FPS_WINDOW = 64
#: Sent packets a subscriber can ask again for (NACK), per slot.
HISTORY = 512
#: How often one packet is sent again at most: aiortc's receivers repeat every missing
#: sequence number in each NACK until it arrives, and answering each repeat would
#: pour more packets into a link that is losing them because it is full.
MAX_RESENDS = 2
#: The packets since the latest keyframe a video track keeps, so that a subscriber
#: that becomes ready starts at once from it (a longer picture group is not kept).
GOP_PACKETS = 300
#: How often a video publisher hears its bitrate cap (RTCP REMB).
REMB_INTERVAL_SECS = 1.0
#: Per-packet overhead counted into layer rates (RTP header, SRTP tag, UDP/IP).
PACKET_OVERHEAD = 50
#: Layer rates are measured over at least this long.
LAYER_WINDOW_SECS = 1.0


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
        self._next_remb = 0.0
        #: (packet, starts a keyframe, descriptor) since the latest keyframe, while
        #: forwarding.
        self.gop: list[tuple[object, bool, vp8.Descriptor | None]] | None = None
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
                cap = self.max_bitrate
                if self.demand:
                    cap = int(min(cap, max(self.demand.values())))
                hooks.send_remb(self.receiver, cap, packet.ssrc)

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

    async def close(self) -> None:
        if self._dropper is not None:
            self._dropper.cancel()
        for downstream in list(self.downstreams):
            downstream.detach()


class Downstream(MediaStreamTrack):
    """One subscriber's slot: rewrites its source's packets into the stream that its
    sender announced (SSRC, payload type, extension ids) and writes them out."""

    def __init__(self, kind: str, codec_mime: str) -> None:
        super().__init__()
        self.kind = kind
        self.codec_mime = codec_mime
        self.source: Published | None = None
        self.needs_keyframe = False
        #: Attached, waiting for the subscriber's answer (`start`).
        self.held = False
        #: Frames (video) or packets (audio) sent, and packets not sent because the
        #: subscriber's transport was not connected.
        self.sent = self.dropped = 0
        #: Packets sent again because the subscriber said it lost them (NACK).
        self.resent = 0
        #: VP8 temporal layers: what this subscriber gets of a layered source, and the
        #: packets left out for it (the selector sets `layers.target`).
        self.layers = TemporalLayers() if kind == "video" else None
        self.skipped = 0
        #: False while the subscriber's link is full (Downlink): NACKs go unanswered.
        self.resend_ok = True
        #: The source's sequence number -> ours, for a layered source, so that a late
        #: retransmission finds its number although packets were left out since.
        self._seq_map: list[tuple[int, int] | None] = [None] * HISTORY
        #: Payload octets sent, read by the subscriber's estimator for its sent rate.
        self.octets = 0
        self._output: hooks.RtpOutput | None = None
        # What negotiation settled for this slot (on_send_parameters).
        self._payload_type: int | None = None
        self._clock_rate = 90000 if kind == "video" else 48000
        self._ssrc = 0
        self._mid = b""
        self._abs_id: bytes | None = None
        self._level_id: bytes | None = None
        # Our sequence numbers and timestamps: source's plus an offset, re-based
        # whenever the stream restarts (a new source, a resume, a keyframe wait).
        self._rebase = True
        self._seq_offset = 0
        self._ts_offset = 0
        self._next_seq = random.getrandbits(16)
        self._last_ts = random.getrandbits(32)
        self._last_time: float | None = None
        self._packets = self._octets = 0
        self._history: list[tuple[int, bytes, int] | None] = [None] * HISTORY
        self._parked: asyncio.Future[None] | None = None

    @property
    def idle(self) -> bool:
        return self.source is None

    def bind(self, sender) -> None:
        """Take over writing for the transceiver's sender (before it is negotiated)."""
        self._output = hooks.RtpOutput(sender)
        self._ssrc = hooks.sender_ssrc(sender)
        hooks.on_send_parameters(sender, self._configure)
        hooks.hook_retransmit(sender, self._retransmit)
        hooks.fill_sender_reports(sender, self._report)

    def _configure(self, parameters) -> None:
        if self._payload_type is not None or not parameters.codecs:
            return  # aiortc configures a sender once, on its first negotiation
        codec = parameters.codecs[0]
        self._payload_type = codec.payloadType
        self._clock_rate = codec.clockRate
        for ext in parameters.headerExtensions:
            if ext.uri == rtp.MID_URI and parameters.muxId:
                self._mid = rtp.element(ext.id, parameters.muxId.encode())
            elif ext.uri == rtp.ABS_SEND_TIME_URI:
                self._abs_id = bytes(((ext.id << 4) | 2,))
            elif ext.uri == rtp.AUDIO_LEVEL_URI:
                self._level_id = bytes(((ext.id << 4),))

    def attach(self, source: Published) -> None:
        """Carry `source` from the next answer on (`start`): until the subscriber has
        applied the offer that (re)activates this m-line, what it gets may be thrown away,
        and with it the keyframe it must start from."""
        self.detach()
        self.source = source
        self.held = True
        self.needs_keyframe = source.is_video
        self._rebase = True
        if self.layers is not None:
            self.layers.restart()
        source.downstreams.add(self)
        source.request_keyframe()  # a fresh one will be waiting when the answer comes

    def start(self) -> None:
        """The subscriber answered: from the next packet on, send, starting at a keyframe
        (the source's latest, or a new one it asks for)."""
        self.held = False

    def _ready(self) -> bool:
        return (self._payload_type is not None and self._output is not None
                and self._output.ready())

    def detach(self) -> None:
        if self.source is not None:
            self.source.downstreams.discard(self)
            self.source.demand.pop(id(self), None)
            self.source = None

    def resume(self) -> None:
        """The source starts again after a pause: wait for a keyframe if video."""
        self.needs_keyframe = self.kind == "video"
        self._rebase = True
        if self.layers is not None:
            self.layers.restart()

    def forward(self, packet, keyframe: bool, send_time: bytes, level: bytes | None,
                now: float, desc: vp8.Descriptor | None = None,
                retransmission: bool = False) -> bool:
        """Rewrite one of the source's packets for this subscriber and send it. Returns
        True when the slot could send but waits for a keyframe (the source asks for one).
        `desc` is the VP8 descriptor of a VP8 packet: with temporal layers, packets of
        layers above the subscriber's limit are left out and the rest renumbered."""
        if self.held:
            return False
        if not self._ready():
            self.dropped += 1
            return False
        if self.needs_keyframe:
            if not keyframe:
                return True  # would decode to garbage
            self.needs_keyframe = False
            self._rebase = True  # packets were skipped: no gap in our numbering
        layered = desc is not None and desc.tid is not None and self.layers is not None
        mapped = None
        if layered:
            if retransmission:
                kept = self._seq_map[packet.sequence_number % HISTORY]
                if kept is None or kept[0] != packet.sequence_number:
                    return False  # a packet of a frame this subscriber never got
                mapped = kept[1]
            elif not self.layers.admit(desc):  # type: ignore[union-attr,arg-type]
                self._seq_offset = (self._seq_offset - 1) & 0xFFFF  # no gap for it
                self.skipped += 1
                return False
        if self._rebase:
            self._rebase = False
            self._seq_offset = (self._next_seq - packet.sequence_number) & 0xFFFF
            step = 1
            if self._last_time is not None:
                step = max(1, int((now - self._last_time) * self._clock_rate))
            self._ts_offset = (self._last_ts + step - packet.timestamp) & 0xFFFFFFFF
        seq = (packet.sequence_number + self._seq_offset) & 0xFFFF if mapped is None else mapped
        timestamp = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
        elements = self._mid
        if self._abs_id is not None:
            elements += self._abs_id + send_time
        if level is not None and self._level_id is not None:
            elements += self._level_id + level
        payload = packet.payload
        if layered:
            self._seq_map[packet.sequence_number % HISTORY] = (packet.sequence_number, seq)
            if desc.picture_id is not None:  # type: ignore[union-attr]
                pid, tl0 = self.layers.numbers(desc, keyframe)  # type: ignore[union-attr,arg-type]
                if pid is not None:
                    payload = vp8.rewrite(payload, desc, pid, tl0)  # type: ignore[arg-type]
        data = (rtp.HEADER.pack(rtp.FIRST_BYTE, (0x80 if packet.marker else 0)
                                | self._payload_type, seq, timestamp, self._ssrc)
                + rtp.extension_block(elements) + payload)
        datagram = self._output.write(data)  # type: ignore[union-attr]
        self._history[seq % HISTORY] = (seq, datagram, 0)
        if (seq - self._next_seq) & 0xFFFF < 0x8000:  # not a late, reordered packet
            self._next_seq = (seq + 1) & 0xFFFF
        self._last_ts = timestamp
        self._last_time = now
        self._packets += 1
        self._octets += len(payload)
        self.octets += len(data)
        if packet.marker or self.kind == "audio":
            self.sent += 1
        return False

    def _retransmit(self, seq: int) -> None:
        kept = self._history[seq % HISTORY]
        if (kept is not None and kept[0] == seq and kept[2] < MAX_RESENDS
                and self.resend_ok and self._output is not None):
            self._output.resend(kept[1])
            self._history[seq % HISTORY] = (seq, kept[1], kept[2] + 1)
            self.resent += 1
            self.octets += len(kept[1])  # the link carries it again

    def _report(self) -> tuple[float, int, int, int] | None:
        if self._last_time is None:
            return None
        return self._last_time, self._last_ts, self._packets, self._octets

    async def recv(self):
        """aiortc's sender loop waits here; salon writes the packets itself."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._parked is None:
            self._parked = asyncio.get_running_loop().create_future()
        await self._parked
        raise MediaStreamError

    def close(self) -> None:
        self.detach()
        if self._parked is not None and not self._parked.done():
            self._parked.set_result(None)
        self.stop()
