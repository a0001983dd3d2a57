"""The aiortc internals salon touches on a sender (docs/media-design.md §6.8): hearing a
subscriber's keyframe requests, NACKs and feedback, writing pre-encoded frames' audio
levels and VP8 layers (the Python client), and writing RTP on a subscriber's slot
synchronously (`RtpOutput`). Split from `hooks`, whose version check guards both.
"""

import asyncio
import logging
import time
from collections.abc import Callable

import aioice.ice
from aiortc.codecs.vpx import VpxPayloadDescriptor
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpSrPacket,
    unpack_remb_fci,
)
from pylibsrtp import Error as SrtpError

from salon.media.embedded import (
    hooks,  # noqa: F401 - the aiortc version check first
    receiver_reports,
)
from salon.media.embedded import lane as lane_module
from salon.media.embedded.srtp import Protector

log = logging.getLogger("salon.media")


def hook_keyframe_requests(sender, on_request: Callable[[], None]) -> None:
    """aiortc answers a subscriber's PLI/FIR by flagging its encoder; in pack mode there
    is none, so pass the request on (to the publisher, or to a file source)."""
    original = sender._send_keyframe

    def hook() -> None:
        original()
        on_request()

    sender._send_keyframe = hook


def hook_audio_level(sender, level_of: Callable[[object], int | None]) -> None:
    """Put an RFC 6464 level on pre-encoded audio (aiortc computes one only for frames it
    encodes itself). `level_of(packet)` returns -dBov 0..127 or None."""
    original = sender._next_encoded_frame

    async def next_frame(codec):
        encoded = await original(codec)
        if encoded is not None and encoded.audio_level is None:
            level = level_of(getattr(sender.track, "last_packet", None))
            if level is not None:
                encoded.audio_level = -level  # aiortc keeps dBov (-127..0) and negates it
        return encoded

    sender._next_encoded_frame = next_frame


def hook_vp8_layers(sender, layer_of: Callable[[object], tuple[int, bool, int] | None]
                    ) -> None:
    """Write temporal layers into a pre-encoded VP8 stream's payload descriptors (aiortc
    writes only a PictureID): `layer_of(packet)` returns (TID, layer sync, TL0PICIDX) for
    the source's latest packet, or None to leave it as aiortc made it."""
    original = sender._next_encoded_frame

    async def next_frame(codec):
        encoded = await original(codec)
        if encoded is not None:
            layer = layer_of(getattr(sender.track, "last_packet", None))
            if layer is not None:
                tid, sync, tl0 = layer
                payloads = []
                for payload in encoded.payloads:
                    descriptor, rest = VpxPayloadDescriptor.parse(payload)
                    descriptor.tl0picidx = tl0
                    descriptor.tid = (tid, int(sync))
                    payloads.append(bytes(descriptor) + rest)
                encoded.payloads = payloads
        return encoded

    sender._next_encoded_frame = next_frame


# --- writing RTP on a subscriber's sender --------------------------------------------------

def sender_ssrc(sender) -> int:
    """The SSRC aiortc chose for the sender and announced in its offer."""
    return sender._ssrc


def on_send_parameters(sender, callback: Callable[[object], None]) -> None:
    """Call `callback(RTCRtpSendParameters)` when negotiation starts the sender: its
    codecs (payload type first), header-extension ids and mid."""
    original = sender.send

    async def send(parameters) -> None:
        callback(parameters)
        await original(parameters)

    sender.send = send


def hook_retransmit(sender, resend: Callable[[int], None]) -> None:
    """aiortc answers a NACK from its own history of packets it built; salon's forwarded
    packets are not in it, so `resend(sequence_number)` answers instead."""
    async def retransmit(sequence_number: int) -> None:
        resend(sequence_number)

    sender._retransmit = retransmit


#: A receiver report measures a round trip only when it echoes a sender report it got
#: at most this long ago (DLSR, in 1/65536 s).
FRESH_ECHO_DLSR = int(1.5 * 65536)


#: Receiver (and sender) reports are salon's alone: aiortc turns each into a statistics
#: object (`getStats`' remote-inbound-rtp) that nothing on the server reads, and at
#: fifty subscribers that was a tenth of the time their RTCP took (issue 18).
_REPORTS = (RtcpRrPacket, RtcpSrPacket)


def hook_feedback(sender, on_loss: Callable[[float, float | None, float | None], None],
                  on_remb: Callable[[int], None]) -> None:
    """Hear the subscriber's feedback on this sender's stream before aiortc does:
    `on_loss(fraction 0..1, round-trip seconds or None, seconds since the echoed sender
    report was sent or None)` for each receiver report block about it, `on_remb(bits/s)`
    for each REMB naming it (aiortc keeps the first only for its own encoder). aiortc
    itself no longer sees the reports (`_REPORTS`); once one has come through aiortc,
    the transport reads its receiver reports itself (`receiver_reports`). The round
    trip is measured against the sender reports that `sender_reports.report_for` sent
    (RFC 3550 §6.4.1: now − LSR − DLSR), from reports that echo a recent one only: its
    downward half is as old as the sender report, and an old one (audio reports every
    five seconds) would still show a queue long gone."""
    original = sender._handle_rtcp_packet
    if not hasattr(sender, "_salon_sr_times"):
        sender._salon_sr_times = {}

    async def handle(packet) -> None:
        try:
            hear(packet)
            if isinstance(packet, _REPORTS) and getattr(sender, "transport", None):
                receiver_reports.read_reports_first(sender.transport)
        except Exception:  # never at the cost of aiortc's own handling (NACK, PLI)
            log.exception("subscriber feedback failed")
        if not isinstance(packet, _REPORTS):  # NACK, PLI, FIR, REMB: aiortc's too
            await original(packet)

    def hear_report(fraction_lost: int, lsr: int, dlsr: int) -> None:
        """One report block about this sender's stream (fraction lost in 1/256)."""
        sent_at = sender._salon_sr_times.get(lsr)
        rtt = age = None
        if sent_at is not None and lsr and dlsr < FRESH_ECHO_DLSR:
            age = time.time() - sent_at
            rtt = max(0.0, age - dlsr / 65536)
        on_loss(fraction_lost / 256, rtt, age)

    def hear(packet) -> None:
        ssrc = sender._ssrc
        if isinstance(packet, _REPORTS):
            for report in packet.reports:
                if report.ssrc == ssrc:
                    hear_report(report.fraction_lost, report.lsr, report.dlsr)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            try:
                bitrate, ssrcs = unpack_remb_fci(packet.fci)
            except ValueError:
                return
            if ssrc in ssrcs:
                on_remb(bitrate)

    sender._handle_rtcp_packet = handle
    sender._salon_hear_report = hear_report


_DTLS_CONNECTED = DtlsState.CONNECTED


class RtpOutput:
    """Writes finished RTP packets on a sender's transport synchronously: SRTP-protect
    and hand the datagram to the socket, as `RTCDtlsTransport._send_rtp` does but without
    its chain of coroutines (three awaits per packet per subscriber). This runs once per
    forwarded packet per subscriber, so what stays the same from packet to packet (the
    DTLS transport's SRTP session and its ICE connection's nominated pairs) is looked up
    once per transport, not per packet.

    With the C fast lane (lane.py) the slot's `lane` is bound to the same session and
    socket, and protects and sends in C: for the packets `Lane.write` is given here, and
    for those `fan_out` writes without Python."""

    def __init__(self, sender, lane: "lane_module.PyLane") -> None:
        self.sender = sender
        self.lane = lane
        self._dtls = None
        self._session = None
        self._protect: Callable[[bytes], bytes] | None = None
        self._nominated: dict = {}
        self._pair = None
        self._sendto: Callable[[bytes, tuple], None] | None = None
        self._address: tuple | None = None

    def ready(self) -> bool:
        """DTLS is up (so ICE is too): a packet written now reaches the subscriber.
        (Called per packet: the private attribute skips the `transport` property, and the
        member is looked up once, not through the Enum class each time.)"""
        return self.sender._RTCRtpSender__transport._state is _DTLS_CONNECTED

    def steady(self) -> bool:
        """Ready, and the lane is bound to this transport's session and nominated pair:
        the fast lane may write (checked again whenever the subscriber's layers are
        chosen: at least every half second while it reports)."""
        if not self.lane.bound or not self.ready():
            return False
        dtls = self.sender._RTCRtpSender__transport
        return (dtls is self._dtls and dtls._tx_srtp is self._session
                and self._nominated.get(1) is self._pair)

    def write(self, packet: bytes) -> bytes | None:
        """Protect and send (only when `ready()`); returns the datagram, for a resend,
        or None when libsrtp refused the packet (one far behind the newest: its replay
        protection), which is then not sent."""
        dtls = self.sender._RTCRtpSender__transport
        if dtls is not self._dtls or dtls._tx_srtp is not self._session:
            self._bind(dtls)  # the first packet, or a new transport
        self._follow()
        if self.lane.bound:
            return self.lane.write(packet)
        try:
            datagram = self._protect(packet)  # type: ignore[misc]
        except (SrtpError, ValueError):  # refused (a replay), or too long to protect
            return None
        self._send(datagram)
        return datagram

    def _bind(self, dtls) -> None:
        self._dtls = dtls
        self._session = dtls._tx_srtp
        self._protect = Protector(dtls._tx_srtp).protect
        # aioice keeps this dict for the connection's life (cleared, never replaced)
        self._nominated = dtls.transport._connection._nominated
        self._pair = self._sendto = self._address = None
        self.lane.unbind()

    def _follow(self) -> None:
        """Send on the nominated pair: the first packet, or ICE settled on another."""
        pair = self._nominated.get(1)
        if pair is self._pair:
            return
        self._pair = pair
        self._sendto = self._address = None
        lane = self.lane
        lane.unbind()
        if pair is not None and type(pair.protocol) is aioice.ice.StunProtocol:
            transport = pair.protocol.transport
            self._sendto = transport.sendto
            self._address = pair.remote_addr
            sock = transport.get_extra_info("socket")
            if lane_module.NATIVE and sock is not None and self._session is not None:
                try:
                    lane.bind(*lane_module.srtp_binding(self._session), sock.fileno(),
                              pair.remote_addr[0], pair.remote_addr[1])
                except (ValueError, OSError):  # an address sendto(2) cannot take as it is
                    log.warning("fast lane not bound to %r", pair.remote_addr)

    def resend(self, datagram: bytes) -> None:
        """Send an already protected datagram (again: SRTP accepts a lost one once)."""
        self._follow()
        if self.lane.bound:
            self.lane.resend(datagram)
        else:
            self._send(datagram)

    def _send(self, datagram: bytes) -> None:
        if self._sendto is not None:
            self._sendto(datagram, self._address)
        elif self._pair is not None:  # relayed through TURN: aioice wraps it, asynchronously
            asyncio.ensure_future(self._pair.protocol.send_data(datagram,
                                                                self._pair.remote_addr))
