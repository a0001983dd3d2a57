"""aiortc's and aioice's private internals on the receiving side, the transport and ICE
(those of a sender are in `sender_hooks`, pylibsrtp's in `srtp`, the sender report loop
in `sender_reports`).

aiortc has no public way to forward encoded media, to read the RFC 6464 audio level, or
to hear a subscriber's keyframe request without an encoder. These hooks add exactly that
and nothing more. They are written against aiortc 1.16.0 and refuse to load on another
version unless `SALON_MEDIA_UNPINNED=1` (docs/media-design.md §6.8 lists each one);
`sender_hooks` imports this module first, so the check covers it too.
"""

import asyncio
import fractions
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable

import aioice.ice
import aioice.turn
import aiortc
import aiortc.rtcrtpreceiver as rtcrtpreceiver
import av
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.codecs import is_rtx
from aiortc.rtcconfiguration import RTCBundlePolicy, RTCIceTransportPolicy
from aiortc.rtcrtpparameters import RTCRtpCodecParameters, RTCRtpHeaderExtensionParameters
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RtcpPsfbPacket,
    pack_remb_fci,
)
from aiortc.rtp import unwrap_rtx as _unwrap_rtx

from salon.media.embedded import inbound, rtp, srtp
from salon.media.embedded.renack import Renack
from salon.media.embedded.simulcast_sdp import REPAIRED_RID_URI, RID_URI

log = logging.getLogger("salon.media")
PINNED_AIORTC = "1.16.0"

if aiortc.__version__ != PINNED_AIORTC and os.environ.get("SALON_MEDIA_UNPINNED") != "1":
    raise ImportError(
        f"salon's media hooks are written for aiortc {PINNED_AIORTC}, found "
        f"{aiortc.__version__}; re-run the media tests (scripts/test-netns) and set "
        "SALON_MEDIA_UNPINNED=1 once they pass")

#: Seconds from the NTP epoch (1900) to the Unix epoch (1970).
NTP_EPOCH_OFFSET = 2208988800
_decoding_worker = rtcrtpreceiver.decoder_worker
_installed = False
_install_lock = threading.Lock()


# --- pass-through receivers -----------------------------------------------------------------

def _passthrough_worker(loop: asyncio.AbstractEventLoop, input_q, output_q,
                        decode_error: threading.Event) -> None:
    """Same signature as aiortc's decoder_worker (one thread per receiver): hand on each
    reassembled encoded frame as an `av.Packet` with its keyframe flag; decode nothing."""
    while True:
        task = input_q.get()
        if task is None:
            loop.call_soon_threadsafe(output_q.put_nowait, None)
            break
        codec, frame = task
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = fractions.Fraction(1, codec.clockRate)
        packet.is_keyframe = rtp.frame_is_keyframe(codec.name, frame.data)
        loop.call_soon_threadsafe(output_q.put_nowait, packet)


def _worker(loop, input_q, output_q, decode_error) -> None:
    if getattr(output_q, "salon_passthrough", False):
        return _passthrough_worker(loop, input_q, output_q, decode_error)
    return _decoding_worker(loop, input_q, output_q, decode_error)


def install() -> None:
    """Make pass-through selectable per receiver (idempotent). Receivers not marked with
    `mark_passthrough` keep decoding, so bots and recorders can share the process."""
    global _installed
    with _install_lock:
        if not _installed:
            rtcrtpreceiver.decoder_worker = _worker  # looked up when receive() starts
            srtp.speed_up_sessions()
            inbound.skip_stun_parsing_of_media()
            _installed = True


def mark_passthrough(track) -> None:
    """Call from `pc.on("track")`: it fires inside setRemoteDescription, before aiortc
    starts the receiver's worker thread, so the worker sees the mark."""
    install()
    track._queue.salon_passthrough = True


# --- RTP forwarding and keyframe requests --------------------------------------------------

def rtp_timestamp_origin(receiver) -> int | None:
    """The RTP timestamp from which aiortc counts a receiver's frame timestamps (`pts`
    starts at 0 with the first packet: its TimestampMapper), None before any."""
    return receiver._RTCRtpReceiver__timestamp_mapper._origin


def watch_rtp(receiver, on_packet: Callable[[object], None]) -> None:
    """Call `on_packet(rtp_packet)` for every RTP packet the receiver gets, before aiortc
    handles it as usual (media SSRC, RFC 6464 audio level: aiortc parses both and keeps
    neither). A later call replaces the earlier watcher."""
    already = hasattr(receiver, "_salon_on_rtp")
    receiver._salon_on_rtp = on_packet
    if already:
        return
    original = receiver._handle_rtp_packet

    async def handle(packet, arrival_time_ms: int) -> None:
        receiver._salon_on_rtp(packet)
        await original(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = handle


#: Media SSRCs one receiver keeps a NACK generator for (simulcast sends up to 4).
MAX_NACKED_SSRCS = 8
#: RTP streams (SSRCs, RTX ones included) one receiver keeps report figures for: a
#: simulcast camera has at most 4 encodings and their RTX; packets of further SSRCs are
#: dropped (aiortc's receiver report cannot list more than 31 anyway).
MAX_STREAMS = 16
#: SSRCs a transport learns by MID (`route_by_mid`), all its m-lines together.
MAX_ROUTED_SSRCS = 64


def forward_rtp(receiver, on_packet: Callable[[object, bool], None]) -> None:
    """Take over the receiver's RTP handling: hand `on_packet(rtp_packet, retransmitted)`
    every packet it accepts (parsed by aiortc: SSRC, payload type, RFC 6464 level; an RTX
    retransmission already unwrapped), keeping only aiortc's bookkeeping that the
    publisher relies on: the statistics of its receiver reports and its NACKs. Nothing
    is reassembled, depacketized or handed to a worker thread. Packets are taken as they
    arrive (`inbound.receive_rtp_at_once`), not through aiortc's receive queue. A later
    call replaces the earlier callback (a track published again)."""
    already = hasattr(receiver, "_salon_forward")
    receiver._salon_forward = on_packet
    if already:
        return
    codecs = receiver._RTCRtpReceiver__codecs            # payload type -> codec
    streams = receiver._RTCRtpReceiver__remote_streams   # SSRC -> receiver-report figures
    rtx_ssrcs = receiver._RTCRtpReceiver__rtx_ssrc       # RTX SSRC -> media SSRC
    first_nacks = receiver._RTCRtpReceiver__nack_generator  # video only
    # One NACK generator (and its asking again) per media SSRC: aiortc's follows one
    # sequence-number space, and a simulcast publisher sends one per encoding
    # (docs/media-design.md §6.10).
    nackers: dict[int, tuple[NackGenerator, Renack]] = {}

    def accept(packet) -> tuple[int, list[int]] | None:
        """Forward `packet`; the NACK to send upstream (media SSRC, sequence numbers), if
        it shows a gap or one is due again."""
        if not receiver._enabled:
            return None
        codec = codecs.get(packet.payload_type)
        if codec is None:
            return None
        stream = streams.get(packet.ssrc)
        if stream is None:
            if len(streams) >= MAX_STREAMS:
                return None  # a client making up SSRCs: its report figures stay bounded
            stream = streams[packet.ssrc] = StreamStatistics(codec.clockRate)
        stream.add(packet)
        retransmitted = is_rtx(codec)
        if retransmitted:
            apt = codec.parameters.get("apt")
            ssrc = rtx_ssrcs.get(packet.ssrc)
            if ssrc is None:
                # A simulcast RTX stream has no a=ssrc-group: its repaired RID names
                # the encoding it repairs (learnt once, then found by SSRC).
                rid = packet.extensions.repaired_rtp_stream_id
                ssrc = receiver._salon_repaired(rid) if rid is not None else None
                if ssrc is None:
                    return None
                rtx_ssrcs[packet.ssrc] = ssrc
            if len(packet.payload) < 2 or apt not in codecs:
                return None
            packet = _unwrap_rtx(packet, payload_type=apt, ssrc=ssrc)
        receiver._salon_forward(packet, retransmitted)
        if first_nacks is not None:
            nacker = nackers.get(packet.ssrc)
            if nacker is None:
                if len(nackers) >= MAX_NACKED_SSRCS:  # a publisher changing SSRCs
                    del nackers[next(iter(nackers))]
                nacker = nackers[packet.ssrc] = (
                    first_nacks if not nackers else NackGenerator(), Renack())
            nacks, renack = nacker
            if nacks.add(packet):
                receiver._salon_nacks_sent += 1
                renack.asked(nacks.missing, time.monotonic())
                return packet.ssrc, sorted(nacks.missing)
            if nacks.missing:
                again = renack.due(nacks.missing, time.monotonic())
                if again:
                    receiver._salon_nacks_sent += 1
                    return packet.ssrc, again
        return None

    async def handle(packet, arrival_time_ms: int) -> None:
        nack = accept(packet)
        if nack is not None:
            await receiver._send_rtcp_nack(*nack)

    def accept_now(packet) -> None:
        nack = accept(packet)
        if nack is not None:  # sent as aiortc sends it, in a task of its own
            asyncio.ensure_future(receiver._send_rtcp_nack(*nack))

    receiver._salon_nacks_sent = 0
    receiver._salon_repaired = lambda rid: None
    receiver._handle_rtp_packet = handle  # packets from aiortc's receive queue
    inbound.set_rtp_handler(receiver, accept_now)  # and those handled as they arrive
    transport = getattr(receiver, "transport", None)  # (unit tests' receivers have none)
    if transport is not None:
        inbound.receive_rtp_at_once(transport)


def renack(receiver) -> None:
    """Make a stock aiortc receiver (the Python client's) ask again for packets still
    missing (`renack.Renack`): aiortc asks once per gap."""
    if hasattr(receiver, "_salon_renack"):
        return
    codecs = receiver._RTCRtpReceiver__codecs
    nacks = receiver._RTCRtpReceiver__nack_generator
    if nacks is None:
        return  # audio: no NACKs at all
    state = receiver._salon_renack = Renack()
    original = receiver._handle_rtp_packet

    async def handle(packet, arrival_time_ms: int) -> None:
        had = len(nacks.missing)
        await original(packet, arrival_time_ms=arrival_time_ms)
        codec = codecs.get(packet.payload_type)
        if codec is None or is_rtx(codec) or not nacks.missing:
            return
        now = time.monotonic()
        if len(nacks.missing) > had:
            state.asked(nacks.missing, now)  # aiortc has just asked for a new gap
            return
        again = state.due(nacks.missing, now)
        if again:
            await receiver._send_rtcp_nack(packet.ssrc, again)

    receiver._handle_rtp_packet = handle


def repair_by_rid(receiver, media_ssrc_of: Callable[[str], int | None]) -> None:
    """For `forward_rtp`: `media_ssrc_of(rid)` is the media SSRC of the simulcast
    encoding an RTX packet's repaired-rtp-stream-id names (None: not known yet)."""
    receiver._salon_repaired = media_ssrc_of


def accept_simulcast_extensions(transceiver, rid_ext_id: int,
                                repaired_ext_id: int | None) -> None:
    """Keep the offer's rtp-stream-id (and repaired-rtp-stream-id) extensions on a
    publish transceiver, which aiortc drops as unknown: its answer then carries their
    `a=extmap` lines and the transport's RTP parser reads each packet's RID. Runs
    between setRemoteDescription and createAnswer, like `ask_opus_fec_dtx`."""
    wanted = [(rid_ext_id, RID_URI)]
    if repaired_ext_id is not None:
        wanted.append((repaired_ext_id, REPAIRED_RID_URI))
    have = transceiver._headerExtensions
    for ext_id, uri in wanted:
        if not any(ext.uri == uri for ext in have):
            have.append(RTCRtpHeaderExtensionParameters(id=ext_id, uri=uri))


def route_by_mid(transceiver) -> None:
    """aiortc routes an RTP packet of an SSRC no `a=ssrc` line announced only by its
    payload type, and drops it when two m-lines share that payload type (a simulcast
    camera beside a screenshare). Route such a packet by its MID header extension
    (RFC 8843 §9.2) instead, once: the SSRC is then remembered, so later packets, which
    browsers send without MID, go the usual way. Idempotent, per transport."""
    router = transceiver.receiver.transport._rtp_router
    if getattr(router, "_salon_by_mid", False):
        return
    original = router.route_rtp
    ssrc_table, mid_table = router.ssrc_table, router.mid_table

    def route_rtp(packet):
        if packet.ssrc not in ssrc_table:
            mid = packet.extensions.mid
            receiver = mid_table.get(mid) if mid is not None else None
            if receiver is not None and len(ssrc_table) < MAX_ROUTED_SSRCS:
                ssrc_table[packet.ssrc] = receiver
                return receiver
        return original(packet)

    router.route_rtp = route_rtp
    router._salon_by_mid = True


def nacks_sent(receiver) -> int:
    """RTCP NACKs that `forward_rtp`'s handler sent the publisher (packets gone missing)."""
    return getattr(receiver, "_salon_nacks_sent", 0)


def receiver_packets(receiver) -> tuple[int, int]:
    """(packets received, packets lost) on the receiver's media streams, as its receiver
    reports count them (RTX streams left out; a lost packet later recovered by RTX still
    counts as lost)."""
    streams = getattr(receiver, "_RTCRtpReceiver__remote_streams", {})
    rtx = getattr(receiver, "_RTCRtpReceiver__rtx_ssrc", {})
    received = lost = 0
    for ssrc, stream in list(streams.items()):
        if ssrc in rtx:
            continue
        received += stream.packets_received
        lost += max(0, stream.packets_lost)
    return received, lost


def drop_bitrate_estimator(receiver) -> None:
    """Stop aiortc's receive-side bandwidth estimator (REMB from per-packet delay
    statistics): it costs more per packet than forwarding does. `send_remb` caps the
    publisher instead, as Janus does (docs/media-design.md §6.4)."""
    receiver._RTCRtpReceiver__remote_bitrate_estimator = None


def send_remb(receiver, bitrate: int, media_ssrc: int) -> None:
    """RTCP REMB to the publisher behind `receiver`: send at most `bitrate` bits/s."""
    rtcp_ssrc = receiver._RTCRtpReceiver__rtcp_ssrc
    if rtcp_ssrc is None:
        return
    packet = RtcpPsfbPacket(fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0,
                            fci=pack_remb_fci(bitrate, [media_ssrc]))
    asyncio.ensure_future(receiver._send_rtcp(packet))


def send_pli(receiver, media_ssrc: int) -> None:
    """Ask the publisher behind `receiver` for a keyframe (RTCP PLI)."""
    asyncio.ensure_future(receiver._send_rtcp_pli(media_ssrc))


def drop_incoming(receiver) -> None:
    """Drop the receiver's packets at RTP level, before the jitter buffer."""
    receiver._enabled = False


def accept_incoming(receiver) -> None:
    receiver._enabled = True


def ask_opus_fec_dtx(transceiver) -> None:
    """Answer an audio m-line with Opus `useinbandfec=1; usedtx=1` (RFC 7587 §6.1): the
    publisher then sends in-band FEC (a lost packet is rebuilt from the next) and stops
    sending during silence. aiortc answers with the codecs it keeps on the transceiver
    after applying the offer, so this runs between setRemoteDescription and
    createAnswer."""
    for codec in getattr(transceiver, "_codecs", None) or []:
        if codec.mimeType.lower() == "audio/opus":
            codec.parameters = {**codec.parameters, "useinbandfec": 1, "usedtx": 1}


def negotiated_codec(transceiver) -> RTCRtpCodecParameters | None:
    codecs = getattr(transceiver, "_codecs", None)
    return codecs[0] if codecs else None


# --- ICE ------------------------------------------------------------------------------------

def use_host_addresses(hosts: Iterable[str]) -> None:
    """Gather host candidates on exactly these addresses (aioice leaves out loopback)."""
    chosen = list(hosts)
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: list(chosen)


def fall_back_to_loopback() -> list[str]:
    """If this machine has no address but loopback (an offline laptop, a test namespace),
    gather on 127.0.0.1 rather than on nothing. Returns the addresses ICE will use."""
    found = aioice.ice.get_host_addresses(True, False)
    if not found:
        use_host_addresses(["127.0.0.1"])
        return ["127.0.0.1"]
    return found


def set_udp_receive_buffer(size: int) -> None:
    """SO_RCVBUF of every ICE socket created from now on (the kernel caps it)."""
    aioice.turn.UDP_SOCKET_BUFFER_SIZE = size


def new_peer_connection(ice_servers: Iterable[dict] = (),
                        policy: str = "all") -> RTCPeerConnection:
    """A peer connection with no STUN unless given (never aiortc's Google default) and
    `max-bundle`: with aiortc's default `balanced` policy a second track of the
    non-primary kind silently never starts (docs/media-design.md §6.6). `policy`
    "relay" gathers TURN candidates only."""
    servers = [RTCIceServer(urls=s["urls"], username=s.get("username"),
                            credential=s.get("credential")) for s in ice_servers]
    config = RTCConfiguration(iceServers=servers, bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
                              iceTransportPolicy=RTCIceTransportPolicy(policy))
    return RTCPeerConnection(config)
