"""inbound.py: a publisher's RTP packets handled as they arrive, everything else queued as
aiortc queues it (stand-ins for the transports; tests/media runs the real ones)."""

import asyncio
from types import SimpleNamespace

import aioice.ice
import pylibsrtp
from aioice import stun
from aiortc.rtcdtlstransport import State
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from salon.media.embedded import inbound


class FakeSrtp:
    """Unprotects by dropping a 10-byte tag; refuses what starts with b"\\x80\\xff"."""

    def unprotect(self, data: bytes) -> bytes:
        if data[1] == 0xFF:
            raise pylibsrtp.Error("authentication failed")
        return data[:-10]


def _rtp(seq: int, payload_type: int = 96) -> bytes:
    return RtpPacket(payload_type=payload_type, sequence_number=seq, timestamp=seq * 3000,
                     ssrc=1234, payload=b"frame").serialize() + b"T" * 10


def _transport(receiver) -> tuple[SimpleNamespace, list]:
    queued: list = []
    connection = SimpleNamespace(_queue=asyncio.Queue(), data_received=None)

    def data_received(data: bytes, component: int) -> None:
        queued.append(data)
        connection._queue.put_nowait((data, component))

    connection.data_received = data_received
    router = SimpleNamespace(route_rtp=lambda packet: receiver)
    dtls = SimpleNamespace(transport=SimpleNamespace(_connection=connection),
                           _state=State.CONNECTED, _rx_srtp=FakeSrtp(),
                           _rtp_header_extensions_map=HeaderExtensionsMap(),
                           _rtp_router=router,
                           _RTCDtlsTransport__rx_bytes=0, _RTCDtlsTransport__rx_packets=0)
    return dtls, queued


async def test_rtp_is_handled_at_once_and_the_rest_is_queued() -> None:
    got: list[int] = []
    receiver = SimpleNamespace()
    inbound.set_rtp_handler(receiver, lambda packet: got.append(packet.sequence_number))
    dtls, queued = _transport(receiver)
    inbound.receive_rtp_at_once(dtls)
    inbound.receive_rtp_at_once(dtls)  # idempotent
    connection = dtls.transport._connection

    connection.data_received(_rtp(1), 1)
    assert got == [1] and queued == []
    assert dtls._RTCDtlsTransport__rx_packets == 1
    rtcp = bytes([0x80, 200]) + b"\x00" * 26
    dtls_record = bytes([22]) + b"\x00" * 20
    for other in (rtcp, dtls_record):  # SRTCP and DTLS go the usual way
        connection.data_received(other, 1)
    assert queued == [rtcp, dtls_record]
    connection.data_received(_rtp(2), 1)  # behind queued datagrams: it waits its turn
    assert got == [1] and queued[-1] == _rtp(2)
    while not connection._queue.empty():
        connection._queue.get_nowait()
    connection.data_received(bytes([0x80, 0xFF]) + _rtp(3)[2:], 1)  # fails to unprotect
    assert got == [1] and dtls._RTCDtlsTransport__rx_packets == 2  # dropped, counted
    dtls._state = State.CLOSED
    connection.data_received(_rtp(4), 1)
    assert got == [1] and queued[-1] == _rtp(4)


async def test_a_receiver_without_a_handler_gets_aiortcs_handling() -> None:
    handled: list[int] = []

    async def handle(packet, arrival_time_ms: int) -> None:
        handled.append(packet.sequence_number)

    receiver = SimpleNamespace(_handle_rtp_packet=handle)
    dtls, queued = _transport(receiver)
    inbound.receive_rtp_at_once(dtls)
    dtls.transport._connection.data_received(_rtp(7), 1)
    await asyncio.sleep(0)
    assert handled == [7] and queued == []


async def test_stun_is_still_parsed_and_media_skips_parsing() -> None:
    inbound.skip_stun_parsing_of_media()
    received: list = []
    protocol = aioice.ice.StunProtocol(SimpleNamespace(
        data_received=lambda data, component: received.append(data),
        request_received=lambda *args: received.append("stun request")))
    protocol.local_candidate = SimpleNamespace(component=1)
    protocol.transport = SimpleNamespace()
    protocol.datagram_received(_rtp(1), ("127.0.0.1", 9))
    assert received == [_rtp(1)]

    request = stun.Message(message_method=stun.Method.BINDING,
                           message_class=stun.Class.REQUEST)
    protocol.datagram_received(bytes(request), ("127.0.0.1", 9))
    assert received[-1] == "stun request"
