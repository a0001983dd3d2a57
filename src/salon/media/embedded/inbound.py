"""Incoming RTP handled as it arrives, not through aiortc's receive queue.

In aiortc a datagram from a publisher takes this way: aioice's protocol first tries to
parse it as STUN (an exception for every media packet), puts it on the ICE connection's
queue, and the DTLS transport's task takes it off again through five nested awaits before
it unprotects, parses and routes it. In a meeting where each published packet goes to a
handful of subscribers, that walk costs more than forwarding the packet does.

So, for the publish connections of the embedded SFU (`receive_rtp_at_once`), an SRTP
packet that finds the queue empty is unprotected, parsed, routed and forwarded from
aioice's `datagram_received`, in the same loop turn. What the fast way does not take
goes the usual way, unchanged: STUN, DTLS records, SRTCP (aiortc's RTCP handlers are
coroutines), and anything that arrives while the queue holds something (so nothing
overtakes a datagram before it). A receiver without a synchronous handler
(`hooks.forward_rtp` gives each forwarding receiver one) gets its packet as aiortc
would give it, in a task of its own. docs/media-design.md §6.8
lists the private attributes this reads; they are pinned with aiortc 1.16.0.
"""

import asyncio
import logging
from collections.abc import Callable

import aioice.ice
import pylibsrtp
from aiortc import clock
from aiortc.rtcdtlstransport import State
from aiortc.rtp import RtpPacket

from salon.media.embedded.failures import ThrottledFailures

log = logging.getLogger("salon.media")

#: RFC 7983 §7: a datagram whose first byte is above 3 is not STUN.
_LAST_STUN_BYTE = 3
_CONNECTED = State.CONNECTED


def skip_stun_parsing_of_media() -> None:
    """aioice parses every datagram as STUN first and takes the failure as "not STUN";
    a datagram whose first byte rules STUN out (DTLS, RTP, RTCP) goes straight to the
    connection instead. The same datagrams reach the same place. Idempotent."""
    protocol = aioice.ice.StunProtocol
    if getattr(protocol, "_salon_skips_media", False):
        return
    parse_first = protocol.datagram_received

    def datagram_received(self, data, addr) -> None:
        if data and data[0] > _LAST_STUN_BYTE:
            self.receiver.data_received(data, self.local_candidate.component)
        else:
            parse_first(self, data, addr)

    protocol.datagram_received = datagram_received
    protocol._salon_skips_media = True


def receive_rtp_at_once(dtls) -> None:
    """Handle the SRTP packets `dtls` (an `RTCDtlsTransport`) receives as they arrive,
    for receivers that have a synchronous handler (`set_rtp_handler`). Idempotent."""
    connection = dtls.transport._connection
    if getattr(connection, "_salon_at_once", False):
        return
    queue = connection._queue
    queued = connection.data_received

    def data_received(data: bytes, component: int) -> None:
        first = data[0] if data else 0
        if (127 < first < 192 and not (len(data) >= 2 and 192 <= data[1] <= 208)
                and queue.empty() and dtls._state is _CONNECTED
                and dtls._rx_srtp is not None):
            try:
                _handle_rtp(dtls, data)
            except Exception:  # never into aioice's protocol callback
                _failures.log()
            return
        queued(data, component)

    connection.data_received = data_received
    connection._salon_at_once = True


#: Never into aioice's protocol callback: logged instead (at most one a 10 s).
_failures = ThrottledFailures(log, "incoming RTP packet not handled")


def set_rtp_handler(receiver, handler: Callable[[RtpPacket], None]) -> None:
    """`handler(packet)` takes `receiver`'s RTP packets on the fast way, where
    `receive_rtp_at_once` is on; it must not block. (No arrival time: aiortc's clock
    costs microseconds a packet, and only its bandwidth estimator, which the SFU turns
    off, reads it.)"""
    receiver._salon_rtp_now = handler


def _handle_rtp(dtls, data: bytes) -> None:
    """What `RTCDtlsTransport._recv_next` and `_handle_rtp_data` do with an SRTP packet."""
    length = len(data)
    try:
        data = dtls._rx_srtp.unprotect(data)
    except pylibsrtp.Error:
        _count(dtls, length)
        return  # as aiortc: a packet that fails authentication is dropped
    try:
        packet = RtpPacket.parse(data, dtls._rtp_header_extensions_map)
    except ValueError:
        _count(dtls, length)
        return
    _count(dtls, length)
    receiver = dtls._rtp_router.route_rtp(packet)
    if receiver is None:
        return
    handler = getattr(receiver, "_salon_rtp_now", None)
    if handler is not None:
        handler(packet)
    else:  # aiortc's own handling (unprotected already: it cannot be queued again)
        asyncio.ensure_future(
            receiver._handle_rtp_packet(packet, arrival_time_ms=clock.current_ms()))


def _count(dtls, length: int) -> None:
    """The transport's received figures (its `getStats`), as `_recv_next` keeps them."""
    dtls._RTCDtlsTransport__rx_bytes += length
    dtls._RTCDtlsTransport__rx_packets += 1
