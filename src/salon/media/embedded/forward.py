"""Forwarding at RTP level: one `Published` per incoming track hands each of its RTP
packets to one `Downstream` per subscriber (downstream.py), which rewrites the header
(SSRC, payload type, sequence number, timestamp, extension ids) and sends it on
(docs/media-design.md §6.4). Nothing is reassembled, depacketized, queued or
repacketized on the way. A VP8 packet's descriptor is read here once for all
subscribers (temporal layers, §6.9). A simulcast track has several encodings (one RTP
stream each, told apart by RID, §6.10); each slot takes one of them at a time.
"""

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable

from aiortc import MediaStreamTrack

from salon.media.backend import TrackInfo
from salon.media.embedded import h264, hooks, pausing, rtp, vp8
from salon.media.embedded.backlog import VoiceBacklog
from salon.media.embedded.downstream import SWITCHING, Downstream
from salon.media.embedded.encoding import Encoding
from salon.media.embedded.figures import Retired
from salon.media.embedded.lane import fan_out

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
#: How often a simulcast track looks for encodings to pause.
REVIEW_INTERVAL_SECS = 1.0


class Published:
    """One published track: the RTP packets of its receiver, fanned out to subscribers."""

    def __init__(self, info: TrackInfo, track: MediaStreamTrack, receiver) -> None:
        self.info = info
        self.track = track
        self.receiver = receiver
        self.is_video = track.kind == "video"
        #: VP8: packets are read for temporal layers (vp8.parse), once for all subscribers.
        self.is_vp8 = info.codec.lower() == "video/vp8"
        self.is_h264 = info.codec.lower() == "video/h264"
        #: The track's encodings, low to high (one unless simulcast: `set_simulcast`).
        self.encodings: list[Encoding] = [Encoding()]
        self._single: Encoding = self.encodings[0]
        #: Simulcast: the RIDs offered, and each encoding by RID and by the SSRC learnt
        #: from its first packet carrying the RID (later packets need not carry it).
        self.rids: tuple[str, ...] = ()
        self._by_rid: dict[str, Encoding] = {}
        self._by_ssrc: dict[int, Encoding] = {}
        #: Bits/s each subscriber's slot can take (Downlink.apply): the publisher's cap
        #: follows the best-served one.
        self.demand: dict[int, float] = {}
        self.forwarding = False  # set_forwarding / enforce; off until the room says on
        self.allowed = True      # enforce: False stops forwarding whatever the soft state
        self.downstreams: set[Downstream] = set()
        #: The negotiated codec: only its payload type is forwarded, and its parameters
        #: (H.264 profile) are what every subscriber must be offered.
        self.payload_types: frozenset[int] = frozenset()
        self.codec_parameters: dict = {}
        #: When the last keyframe request went to the publisher (PLI_PENDING_SECS).
        self.pli_pending_since: float | None = None
        self.levels: list[int] = []
        self.saw_vad = False
        self.frames = self.keyframes = self.bytes = self.plis_sent = self.dropped = 0
        #: Retransmissions (RTX) from the publisher, forwarded to fill subscribers' gaps.
        self.recovered = 0
        self.arrivals: deque[float] = deque(maxlen=FPS_WINDOW)
        #: A voice's last seconds, for a transcriber that joins after them (backlog.py).
        self.backlog: VoiceBacklog | None = None if self.is_video else VoiceBacklog()
        self._arrivals_from: Encoding | None = None  # the encoding the fps is of
        #: Packets of a revoked kind are dropped at RTP level (see `drop_after`).
        self.dropping = False
        self._dropper: asyncio.TimerHandle | None = None
        #: Bits/s this publisher may send (video), and when it is next told so.
        self.max_bitrate: int | None = None
        self._cap: int | None = None  # the cap last told
        self._next_remb = 0.0
        #: Where this track's figures go when it closes (set by its MediaPeer).
        self.retired: Retired | None = None
        #: Simulcast: told when encodings are paused or resumed (its MediaPeer tells the
        #: publisher), and when the encodings are next reviewed.
        self.on_encodings: Callable[[Published], None] | None = None
        self._next_review = 0.0
        hooks.forward_rtp(receiver, self._on_rtp)
        hooks.drop_bitrate_estimator(receiver)

    @property
    def active(self) -> bool:
        return self.forwarding and self.allowed

    @property
    def gop(self) -> list | None:
        """The single stream's picture group (simulcast: each encoding has its own)."""
        return self._single.gop

    @property
    def media_ssrc(self) -> int | None:
        return self._single.ssrc

    def set_simulcast(self, rids: tuple[str, ...]) -> None:
        """The publisher sends one encoding per RID (before anyone subscribes)."""
        self.rids = tuple(rids)
        self.encodings = [Encoding(rid) for rid in self.rids]
        self._single = self.encodings[0]
        self._by_rid = {e.rid: e for e in self.encodings if e.rid is not None}
        hooks.repair_by_rid(self.receiver, self._ssrc_of_rid)

    def _ssrc_of_rid(self, rid: str) -> int | None:
        encoding = self._by_rid.get(rid)
        return encoding.ssrc if encoding is not None else None

    def _learn(self, packet) -> Encoding | None:
        """The encoding of a packet from an SSRC not seen before, by its RID; None for a
        packet that names no offered RID (dropped: it cannot be placed)."""
        rid = packet.extensions.rtp_stream_id
        encoding = self._by_rid.get(rid) if rid is not None else None
        if encoding is None:
            return None
        if encoding.ssrc is not None:
            self._by_ssrc.pop(encoding.ssrc, None)  # the publisher restarted the stream
        first = encoding.ssrc is None
        encoding.ssrc = packet.ssrc
        self._by_ssrc[packet.ssrc] = encoding
        if first:
            # slots that started before anything was sent wait on an encoding that may
            # never come (a browser sends only what its camera and uplink allow): this
            # one is sending, so they start here and the selector moves them later
            for slot in list(self.downstreams):
                target = slot.spatial_target
                if slot.spatial is None and (target is None or target.ssrc is None):
                    self.retarget(slot, encoding)
        return encoding

    def _order(self) -> None:
        """Order simulcast encodings low to high by their keyframes' picture height (an
        encoding not seen yet keeps its offer position after those seen)."""
        position = {e.rid: i for i, e in enumerate(self.encodings)}
        self.encodings.sort(key=lambda e: (e.height or 1 << 20, position[e.rid]))

    def _on_rtp(self, packet, retransmission: bool) -> None:
        if packet.payload_type not in self.payload_types:
            return  # another codec of the m-line (RED, FEC): not forwarded
        if self.rids:
            encoding = self._by_ssrc.get(packet.ssrc)
            if encoding is None:
                encoding = self._learn(packet)
                if encoding is None:
                    return
        else:
            encoding = self._single
        if not retransmission:
            # Behind the newest packet of its stream: a resend on the media SSRC (a
            # publisher without RTX, such as the Python client's simulcast encodings)
            # or a late one; either way not a new packet (no keyframe start, not in the
            # picture group, numbered as the packet it repeats).
            newest = encoding.newest
            if (newest is not None and newest[0] == packet.ssrc
                    and (packet.sequence_number - newest[1]) & 0xFFFF >= 0x8000):
                retransmission = True
            else:
                encoding.newest = (packet.ssrc, packet.sequence_number)
        now = time.time()
        # A retransmitted keyframe start arrives late: never a place to start anyone.
        keyframe = not retransmission and rtp.starts_keyframe(self.info.codec, packet.payload)
        desc = vp8.parse(packet.payload) if self.is_vp8 else None
        tid = 0
        if desc is not None and desc.tid is not None:
            encoding.layered = True
            tid = desc.tid
        if not retransmission:
            encoding.layer_bytes[tid] += len(packet.payload) + PACKET_OVERHEAD
        self._observe(packet, encoding, retransmission, keyframe, desc, now)
        if self.rids and now >= self._next_review:
            self._next_review = now + REVIEW_INTERVAL_SECS
            self.review_encodings(time.monotonic())
        if not self.active:
            if packet.marker or not self.is_video:
                self.dropped += 1  # frames not forwarded, as `frames` counts them
            return
        if self.backlog is not None and not retransmission:
            self.backlog.keep(packet.timestamp, packet.payload, now)
        if self.is_video and not retransmission:
            if keyframe:
                encoding.gop = [(packet, True, desc)]
            elif encoding.gop is not None:
                encoding.gop.append((packet, False, desc))
                if len(encoding.gop) > GOP_PACKETS:
                    encoding.gop = None
        if self.rids:
            if encoding.slots:
                self._fan_out(encoding.slots, encoding, packet, retransmission, keyframe,
                              desc, now)
        elif self.downstreams:
            self._fan_out(self.downstreams, None, packet, retransmission, keyframe, desc,
                          now)

    def _observe(self, packet, encoding: Encoding, retransmission: bool, keyframe: bool,
                 desc: vp8.Descriptor | None, now: float) -> None:
        """Counters, audio levels for the active speaker, the publisher's bitrate cap."""
        encoding.ssrc = packet.ssrc  # PLIs and REMB name this one, not RTX's
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
                # fps: of one encoding (a simulcast track's top one that is sending)
                if encoding is not self._arrivals_from:
                    self._count_fps_of(encoding, now)
                if encoding is self._arrivals_from:
                    self.arrivals.append(now)
        if self.is_video:
            if keyframe:
                self.keyframes += 1
                encoding.keyframes += 1
                size = (vp8.keyframe_size(packet.payload, desc.header_len) if desc is not None
                        else h264.keyframe_size(packet.payload) if self.is_h264 else None)
                if size is not None and size != (encoding.width, encoding.height):
                    encoding.width, encoding.height = size
                    if self.rids:
                        self._order()
            if now >= self._next_remb and self.max_bitrate:
                self._next_remb = now + REMB_INTERVAL_SECS
                hooks.send_remb(self.receiver, self._publisher_cap(), packet.ssrc)

    def _count_fps_of(self, encoding: Encoding, now: float) -> None:
        """Measure fps on `encoding` from now if it ranks above the one measured, or if
        that one has stopped sending (a simulcast layer the publisher paused)."""
        current = self._arrivals_from
        if (current is None or now - (self.arrivals[-1] if self.arrivals else 0) > 1.0
                or self.encodings.index(encoding) > self.encodings.index(current)):
            self._arrivals_from = encoding
            self.arrivals.clear()

    def _fan_out(self, slots: Iterable[Downstream], encoding: Encoding | None, packet,
                 retransmission: bool, keyframe: bool, desc: vp8.Descriptor | None,
                 now: float) -> None:
        """`encoding` is None for a single stream (the slots' fast path)."""
        send_time = rtp.abs_send_time(now)
        level = packet.extensions.audio_level
        level_value = rtp.audio_level(*level) if level is not None else None
        if encoding is None and not retransmission and (desc is None or desc.tid is None):
            # the steady slots are written in C (lane.py); the rest come back
            slots = fan_out(slots, packet.marker, packet.sequence_number, packet.timestamp,
                            packet.payload, send_time, level_value, now)
            if not slots:
                return
        gated = False
        gop = (encoding or self._single).gop
        for downstream in slots:
            state = downstream.forward(packet, keyframe, send_time, level_value, now, desc,
                                       retransmission, encoding)
            if state:
                if state is not SWITCHING and gop is not None and not retransmission:
                    # Ready and waiting: start it from the latest keyframe (this packet
                    # included) rather than wait a round trip for a new one. A slot
                    # switching encodings keeps its current one until a fresh keyframe
                    # instead: a replayed picture group would be a burst of old frames.
                    for kept, starts, kept_desc in gop:
                        downstream.forward(kept, starts, send_time, None, now, kept_desc,
                                           False, encoding)
                else:
                    gated = True
        if gated:
            # A publisher may ignore a keyframe request (Chrome sometimes does):
            # ask again while anyone waits; request_keyframe spaces the asks.
            self.request_keyframe(encoding)

    def request_keyframe(self, encoding: Encoding | None = None) -> None:
        """RTCP PLI to the publisher for `encoding` (by default the single stream, or a
        simulcast track's lowest encoding that is sending); asks share one request,
        whichever encoding they name: the publisher hears at most one per
        PLI_PENDING_SECS (issue 18: never more than one a second), and an ask within
        that time is left to the next ask (slots waiting for a keyframe ask with every
        packet)."""
        if not self.is_video:
            return
        if encoding is None:
            encoding = next((e for e in self.encodings if e.ssrc is not None), None)
        if encoding is None or encoding.ssrc is None:
            return
        now = time.monotonic()
        if self.pli_pending_since is not None and now - self.pli_pending_since < PLI_PENDING_SECS:
            return
        self.pli_pending_since = now
        self.plis_sent += 1
        hooks.send_pli(self.receiver, encoding.ssrc)

    def retarget(self, slot: Downstream, encoding: Encoding) -> None:
        """Simulcast: `slot` should take `encoding`; it switches at that encoding's next
        keyframe (asked for now) and keeps its current one until then."""
        old = slot.spatial_target
        if old is encoding:
            return
        if old is not None and old is not slot.spatial:
            old.slots.discard(slot)
        slot.spatial_target = encoding
        encoding.slots.add(slot)
        if encoding.paused:
            encoding.resume(time.monotonic())  # its first frame will be a keyframe
            self._tell()
        if encoding is not slot.spatial:
            self.request_keyframe(encoding)

    def default_encoding(self) -> Encoding:
        """Where a new slot starts: the highest encoding that is sending and not paused
        (the selector moves it once its subscriber's feedback arrives)."""
        sending = [e for e in self.encodings if e.ssrc is not None and not e.paused]
        return sending[-1] if sending else self.encodings[-1]

    def review_encodings(self, now: float) -> None:
        """Pause the encodings nobody has needed for a while (pausing.py); `now` is
        monotonic, the downlinks' clock."""
        changes = pausing.review(self.encodings, now)
        for encoding, paused in changes:
            if paused:
                encoding.pause()
            else:
                encoding.resume(now)
        if pausing.to_retell(self.encodings, now) or changes:
            self._tell()  # one message for all of them

    def _tell(self) -> None:
        """Tell the publisher what to send (its MediaPeer sends `media.encodings`). This
        runs in the packet and feedback paths: nothing it raises may reach aiortc."""
        if self.on_encodings is not None:
            try:
                self.on_encodings(self)
            except Exception:
                log.exception("could not tell %s its encodings", self.info.peer_id)

    def encoding_states(self) -> list[dict]:
        """What the publisher should send: `{rid, active}` per encoding, low to high."""
        return [{"rid": e.rid, "active": not e.paused} for e in self.encodings]

    def set_active(self, *, forwarding: bool | None = None, allowed: bool | None = None) -> None:
        was = self.active
        if forwarding is not None:
            self.forwarding = forwarding
        if allowed is not None:
            self.allowed = allowed
        if not self.active:
            for encoding in self.encodings:
                encoding.gop = None  # never start anyone from a picture before the pause
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
        takes (at least DEMAND_FLOOR_BPS), changed only by more than CAP_HYSTERESIS. A
        simulcast publisher sends its lower encodings as well: their measured rates come
        on top, or a browser would starve its top encoding to fit them in the cap."""
        cap = int(self.max_bitrate or 0)
        if self.demand:
            wanted = max(DEMAND_FLOOR_BPS, max(self.demand.values()))
            if self.rids:
                sending = [e.rate for e in self.encodings if e.rate > 0]
                wanted += sum(sending[:-1])
            cap = int(min(cap, wanted))
        if self._cap is None or abs(cap - self._cap) > CAP_HYSTERESIS * self._cap:
            self._cap = cap
        return self._cap

    def layer_rates(self, now: float) -> tuple[float, ...]:
        """Measured bits/s of temporal layers 0..n together, for n up to the highest
        layer seen (one entry for a stream without temporal layers); of a simulcast
        track, all its encodings together in one entry (what audio budgeting needs)."""
        if not self.rids:
            return self._single.layer_rates(now)
        return (sum(rates[-1] for rates in self.spatial_rates(now)),)

    def spatial_rates(self, now: float) -> tuple[tuple[float, ...], ...]:
        """Each encoding's `layer_rates`, low to high."""
        return tuple(e.layer_rates(now) for e in self.encodings)

    def fps(self) -> float:
        if len(self.arrivals) < 2:
            return 0.0
        span = self.arrivals[-1] - self.arrivals[0]
        if span <= 0 or time.time() - self.arrivals[-1] > 1.0:
            return 0.0
        return round((len(self.arrivals) - 1) / span, 2)

    def stats(self) -> dict:
        simulcast = ({"encodings": [{"rid": e.rid, "width": e.width, "height": e.height,
                                     "keyframes": e.keyframes, "active": not e.paused}
                                    for e in self.encodings]}
                     if self.rids else {})
        return {**self.info.wire(), **simulcast,
                "frames": self.frames, "keyframes": self.keyframes,
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
