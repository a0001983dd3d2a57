"""One subscriber's slot on the embedded SFU (docs/media-design.md §6.4, §6.9).

A `Downstream` is the track of one `sendonly` transceiver on a subscriber's connection.
It outlives the subscriptions it carries: when a subscription ends, the slot goes idle
and can carry the next track of the same kind and codec without a new m-line; its
sequence numbers and timestamps stay continuous across sources. aiortc's sender loop
waits on the slot's `recv`, which returns only when the slot closes. Of a source with
VP8 temporal layers it forwards the layers its subscriber takes (`layers`); of a simulcast
source, one encoding at a time (`spatial`), switching at a keyframe of the next one
(§6.10) with the same continuity as across sources.
"""

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from salon.media.embedded import backlog, rtp, sender_hooks, sender_reports, vp8
from salon.media.embedded.lane import HISTORY, Lane
from salon.media.embedded.layers import TemporalLayers

if TYPE_CHECKING:
    from salon.media.embedded.encoding import Encoding
    from salon.media.embedded.figures import Retired
    from salon.media.embedded.forward import Published

#: `forward` returns this (true, but not True) while the slot waits for a keyframe of the
#: simulcast encoding it switches to: ask for one, but do not replay the picture group.
SWITCHING = 2

#: How often one packet is sent again at most: aiortc's receivers repeat every missing
#: sequence number in each NACK until it arrives, and answering each repeat would
#: pour more packets into a link that is losing them because it is full.
MAX_RESENDS = 2


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
        #: Our stream's state and figures, and the datagrams kept for resends: shared
        #: with the C fast lane, which writes the steady state's packets (lane.py).
        self.lane = Lane(is_audio=kind == "audio")
        self.lane.next_seq = random.getrandbits(16)
        self.lane.last_ts = random.getrandbits(32)
        #: Packets not sent because the subscriber's transport was not connected.
        self.dropped = 0
        #: Packets sent again because the subscriber said it lost them (NACK).
        self.resent = 0
        #: Keyframe requests (PLI, FIR) from the subscriber.
        self.keyframe_requests = 0
        #: Where this slot's figures go when it closes (set by its MediaPeer).
        self.retired: Retired | None = None
        #: VP8 temporal layers: what this subscriber gets of a layered source, and the
        #: packets left out for it (the selector sets `layers.target`).
        self.layers = TemporalLayers() if kind == "video" else None
        self.skipped = 0
        #: Simulcast: the encoding forwarded now (None before the first keyframe), the
        #: one the selector wants (the slot switches at its next keyframe), switches.
        self.spatial: Encoding | None = None
        self.spatial_target: Encoding | None = None
        self.spatial_switches = 0
        #: False while the subscriber's link is full (Downlink): NACKs go unanswered.
        self.resend_ok = True
        #: The source's sequence number -> ours, for a layered source, so that a late
        #: retransmission finds its number although packets were left out since.
        self._seq_map: list[tuple[int, int] | None] = [None] * HISTORY
        self._output: sender_hooks.RtpOutput | None = None
        # What negotiation settled for this slot (on_send_parameters).
        self._payload_type: int | None = None
        self._clock_rate = 90000 if kind == "video" else 48000
        self._ssrc = 0
        self._mid = b""
        self._abs_id: bytes | None = None
        self._level_id: bytes | None = None
        # The header extension block's parts that stay the same from packet to packet
        # (profile, length, MID, the abs-send-time id; the padding), without and with an
        # audio level: a packet's block is head + its values + padding (`_frame`).
        self._ext_head = self._ext_head_level = rtp.extension_block(b"")
        self._ext_pad = self._ext_pad_level = b""
        # Our sequence numbers and timestamps (the lane's): source's plus an offset,
        # re-based whenever the stream restarts (a new source, a resume, a keyframe wait).
        self._rebase = True
        self._parked: asyncio.Future[None] | None = None
        #: Sends a sender report now (set by `bind`).
        self.report_now: Callable[[], None] = lambda: None

    @property
    def idle(self) -> bool:
        return self.source is None

    @property
    def sent(self) -> int:
        """Frames (video) or packets (audio) sent."""
        return self.lane.sent

    @property
    def octets(self) -> int:
        """Octets put on the subscriber's link (resends too), read by its estimator."""
        return self.lane.octets

    def bind(self, sender) -> None:
        """Take over writing for the transceiver's sender (before it is negotiated)."""
        self._output = sender_hooks.RtpOutput(sender, self.lane)
        self._ssrc = sender_hooks.sender_ssrc(sender)
        sender_hooks.on_send_parameters(sender, self._configure)
        sender_hooks.hook_retransmit(sender, self._retransmit)
        self.report_now = sender_reports.report_for(sender, self._output, self._report,
                                                    self.kind, lambda: self._clock_rate)

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
        self._frame()

    def _frame(self) -> None:
        fixed = self._mid + (self._abs_id or b"")
        values = 3 if self._abs_id is not None else 0
        self._ext_head, self._ext_pad = rtp.extension_frame(fixed, values)
        if self._level_id is not None:
            self._ext_head_level, self._ext_pad_level = rtp.extension_frame(fixed, values + 2)
        self.lane.configure(self._ssrc, self._payload_type or 0, self._ext_head,
                            self._ext_pad, self._ext_head_level, self._ext_pad_level,
                            self._abs_id is not None,
                            self._level_id[0] if self._level_id is not None else -1)

    def attach(self, source: "Published") -> None:
        """Carry `source` from the next answer on (`start`): until the subscriber has
        applied the offer that (re)activates this m-line, what it gets may be thrown away,
        and with it the keyframe it must start from."""
        self.detach()
        self.source = source
        self.held = True
        self.lane.enabled = False
        self.needs_keyframe = source.is_video
        self._rebase = True
        if self.layers is not None:
            self.layers.restart()
        source.downstreams.add(self)
        if source.rids:
            start = source.default_encoding()
            source.retarget(self, start)  # asks for its keyframe
        else:
            source.request_keyframe()  # a fresh one will be waiting when the answer comes

    def start(self) -> None:
        """The subscriber answered: from the next packet on, send, starting at a keyframe
        (the source's latest, or a new one it asks for)."""
        self.held = False

    def detach(self) -> None:
        self.lane.enabled = False
        if self.source is not None:
            self.source.downstreams.discard(self)
            self.source.demand.pop(id(self), None)
            self.source = None
        for encoding in (self.spatial, self.spatial_target):
            if encoding is not None:
                encoding.slots.discard(self)
        self.spatial = self.spatial_target = None

    def check_lane(self) -> None:
        """Leave the fast lane if its transport is no longer what it was bound to (at
        each of the subscriber's reports; the next packet's Python path binds again)."""
        if self.lane.enabled and (self._output is None or not self._output.steady()):
            self.lane.enabled = False

    def resume(self) -> None:
        """The source starts again after a pause: wait for a keyframe if video."""
        self.lane.enabled = False
        self.needs_keyframe = self.kind == "video"
        self._rebase = True
        if self.layers is not None:
            self.layers.restart()

    def forward(self, packet, keyframe: bool, send_time: bytes, level: bytes | None,
                now: float, desc: vp8.Descriptor | None = None,
                retransmission: bool = False, encoding: "Encoding | None" = None
                ) -> bool | int:
        """Rewrite one of the source's packets for this subscriber and send it. Returns
        True when the slot could send but waits for a keyframe (the source asks for one),
        SWITCHING while it waits for one of the simulcast encoding it switches to.
        `desc` is the VP8 descriptor of a VP8 packet: with temporal layers, packets of
        layers above the subscriber's limit are left out and the rest renumbered.
        `encoding` is the simulcast encoding the packet is of (None: a single stream)."""
        if self.held:
            return False
        output = self._output  # negotiated and connected? (per packet per subscriber)
        if output is None or self._payload_type is None or not output.ready():
            self.dropped += 1
            return False
        if encoding is not self.spatial:
            if encoding is not self.spatial_target:
                return False  # an encoding this slot left (a packet still in flight)
            if self.spatial is None:
                self.spatial = encoding  # the first one: the keyframe wait below
            elif retransmission or not keyframe:
                return SWITCHING  # the current encoding goes on meanwhile
            else:
                self._switch(encoding)
        if self.needs_keyframe:
            if not keyframe:
                return True  # would decode to garbage
            self.needs_keyframe = False
            self._rebase = True  # packets were skipped: no gap in our numbering
        layered = desc is not None and desc.tid is not None and self.layers is not None
        # Our numbers are not simply the source's plus an offset when layers are left
        # out, nor for a simulcast encoding (a switch starts our numbering afresh): a
        # resend takes the number its packet got, and one of a packet this slot never
        # sent (before the switch, of a dropped layer) is not sent.
        remapped = layered or encoding is not None
        mapped = None
        if remapped and retransmission:
            kept = self._seq_map[packet.sequence_number % HISTORY]
            if kept is None or kept[0] != packet.sequence_number:
                return False  # a packet of a frame this subscriber never got
            mapped = kept[1]
        lane = self.lane
        if mapped is None and layered and not self.layers.admit(desc):  # type: ignore[union-attr,arg-type]
            lane.seq_offset = (lane.seq_offset - 1) & 0xFFFF  # no gap for it
            self.skipped += 1
            return False
        if self._rebase:
            self._rebase = False
            lane.seq_offset = (lane.next_seq - packet.sequence_number) & 0xFFFF
            step = 1
            if lane.last_time is not None:
                step = max(1, int((now - lane.last_time) * self._clock_rate))
            lane.ts_offset = (lane.last_ts + step - packet.timestamp) & 0xFFFFFFFF
        seq = (packet.sequence_number + lane.seq_offset) & 0xFFFF if mapped is None else mapped
        timestamp = (packet.timestamp + lane.ts_offset) & 0xFFFFFFFF
        if self._abs_id is None:
            send_time = b""
        if level is not None and self._level_id is not None:
            extension = (self._ext_head_level + send_time + self._level_id + level
                         + self._ext_pad_level)
        else:
            extension = self._ext_head + send_time + self._ext_pad
        payload = packet.payload
        if remapped:
            self._seq_map[packet.sequence_number % HISTORY] = (packet.sequence_number, seq)
        # PictureIDs continue ours when layers are dropped, and across the encodings of
        # a simulcast track (each numbers its own pictures)
        if ((layered or encoding is not None) and desc is not None
                and desc.picture_id is not None):
            pid, tl0 = self.layers.numbers(desc, keyframe)  # type: ignore[union-attr]
            if pid is not None:
                payload = vp8.rewrite(payload, desc, pid, tl0)
        data = (rtp.HEADER.pack(rtp.FIRST_BYTE, (0x80 if packet.marker else 0)
                                | self._payload_type, seq, timestamp, self._ssrc)
                + extension + payload)
        datagram = output.write(data)
        if datagram is None:
            return False  # libsrtp refused it (far behind the newest): not sent
        lane.keep(seq, datagram)
        if (seq - lane.next_seq) & 0xFFFF < 0x8000:  # not a late, reordered packet
            lane.next_seq = (seq + 1) & 0xFFFF
            # the newest packet's clock: a rebase and the sender reports build on it
            lane.last_ts = timestamp
            lane.last_time = now
        lane.packets += 1
        lane.payload_octets += len(payload)
        lane.octets += len(data)
        if packet.marker or self.kind == "audio":
            lane.sent += 1
        if not retransmission:
            # Steady now (a stream without layers or encodings to choose from, nothing
            # to wait for, a nominated pair): the fast lane writes the next packets.
            lane.enabled = not remapped and output.steady()
        return False

    def backlog(self, before: int, now: float, since: float | None = None
                ) -> list[tuple[float, int, bytes]] | None:
        """The source's voice backlog before `before`, a timestamp of our stream, in our
        numbering (backlog.py); None until this slot has sent a packet of its source."""
        source = self.source
        if (source is None or source.backlog is None or self._rebase
                or self.lane.last_time is None):
            return None
        return backlog.as_received(source.backlog, self.lane.ts_offset, before, now, since)

    def _switch(self, encoding: "Encoding") -> None:
        """Move to another simulcast encoding at its keyframe: its sequence numbers,
        timestamps and PictureIDs continue ours (re-based as for a new source)."""
        old = self.spatial
        if old is not None and old is not self.spatial_target:
            old.slots.discard(self)
        self.lane.enabled = False
        self.spatial = encoding
        self.spatial_switches += 1
        self.needs_keyframe = False
        self._rebase = True
        self._seq_map = [None] * HISTORY  # the old encoding's numbers mean nothing now
        if self.layers is not None:
            self.layers.restart()

    def _retransmit(self, seq: int) -> None:
        kept = self.lane.kept(seq)
        if (kept is not None and kept[1] < MAX_RESENDS and self.resend_ok
                and self._output is not None):
            self._output.resend(kept[0])
            self.lane.count_resend(seq)
            self.resent += 1
            self.lane.octets += len(kept[0])  # the link carries it again

    def send_copy(self, back: int) -> int:
        """Send again, as it is, the datagram sent `back` packets before the latest (a
        padding probe's copy, `prober.py`); its length, or 0 when none is kept."""
        if self.source is None or self._output is None or not self._output.ready():
            return 0
        kept = self.lane.kept((self.lane.next_seq - 1 - back) & 0xFFFF)
        if kept is None or kept[1] > 0:  # (one the subscriber said it lost: not a copy)
            return 0
        self._output.resend(kept[0])
        return len(kept[0])

    def _report(self) -> tuple[float, int, int, int] | None:
        lane = self.lane
        if lane.last_time is None:
            return None
        return lane.last_time, lane.last_ts, lane.packets, lane.payload_octets

    async def recv(self):
        """aiortc's sender loop waits here; salon writes the packets itself."""
        if self.readyState != "live":
            raise MediaStreamError
        if self._parked is None:
            self._parked = asyncio.get_running_loop().create_future()
        await self._parked
        raise MediaStreamError

    def figures(self) -> dict[str, int]:
        """Counters for /metrics (salon.observability), read at scrape time."""
        return {"forwarded_packets": self.lane.packets,
                "forwarded_bytes": self.lane.payload_octets,
                "forward_dropped": self.dropped, "nack_resent": self.resent,
                "keyframe_requests": self.keyframe_requests}

    def close(self) -> None:
        if self.retired is not None:
            self.retired.add(self.kind, self.figures())
            self.retired = None  # once
        self.detach()
        if self._parked is not None and not self._parked.done():
            self._parked.set_result(None)
        self.stop()
