"""The forwarding fast lane (lane.py, `_lane.c`; docs/media-design.md §6.12) writes the
same packets as the Python path: two slots of one `Published`, one on the Python path
(a `Wire`, no SRTP), one on a real C lane bound to a real libsrtp session and a real
UDP socket on loopback. What the second subscriber's socket receives, unprotected with
the same key, must be byte for byte what the first slot wrote, packet after packet,
resends included, and the figures must agree."""

import asyncio
import gc
import os
import socket
from types import SimpleNamespace

import pytest
from aiortc.rtp import HeaderExtensions, RtpPacket
from pylibsrtp import Policy, Session

from salon.media.backend import TrackInfo
from salon.media.embedded import lane as lane_module
from salon.media.embedded.downstream import Downstream
from salon.media.embedded.forward import Published
from salon.media.embedded.lane import srtp_binding
from tests.test_media_rtp import DELTA, KEY, Wire, parameters
from tests.test_simulcast import fake_receiver

pytestmark = pytest.mark.skipif(not lane_module.NATIVE,
                                reason="the C fast lane was not built (no C compiler)")

#: The sockets a test opened, closed after it.
SOCKETS: list[socket.socket] = []


@pytest.fixture(autouse=True)
async def close_sockets():
    yield
    await asyncio.sleep(0)  # the keyframe requests the slots made
    while SOCKETS:
        SOCKETS.pop().close()

SRTP_KEY = os.urandom(30)


def policy(direction: int) -> Policy:
    return Policy(key=SRTP_KEY, ssrc_type=direction,
                  srtp_profile=Policy.SRTP_PROFILE_AES128_CM_SHA1_80)


class LaneWire:
    """An `RtpOutput` whose lane is bound to an SRTP session and a socket."""

    def __init__(self, downstream: Downstream, to: tuple[str, int]) -> None:
        self.lane = downstream.lane
        self.session = Session(policy=policy(Policy.SSRC_ANY_OUTBOUND))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        SOCKETS.append(self.sock)
        self.lane.bind(*srtp_binding(self.session), self.sock.fileno(), to[0], to[1])

    def ready(self) -> bool:
        return True

    def steady(self) -> bool:
        return self.lane.bound

    def write(self, packet: bytes) -> bytes:
        return self.lane.write(packet)

    def resend(self, datagram: bytes) -> None:
        self.lane.resend(datagram)


def two_slots(kind: str):
    """A source, a Python-path slot (its Wire) and a C-lane slot (its subscriber's
    socket, where its datagrams arrive)."""
    mime = "video/VP8" if kind == "video" else "audio/opus"
    source = Published(TrackInfo(f"p:{kind}", "p", kind, mime, "1"),
                       SimpleNamespace(kind=kind), fake_receiver([]))
    source.payload_types = frozenset({100})
    source.forwarding = True
    subscriber = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    subscriber.bind(("127.0.0.1", 0))
    subscriber.settimeout(2)
    SOCKETS.append(subscriber)
    slots = []
    for on_lane in (False, True):
        downstream = Downstream(kind, mime)
        downstream._ssrc = 0xCAFE
        downstream._configure(parameters(kind))
        downstream.lane.next_seq, downstream.lane.last_ts = 4000, 77_000
        downstream._output = (LaneWire(downstream, subscriber.getsockname()) if on_lane
                              else Wire())  # type: ignore[assignment]
        downstream.attach(source)
        downstream.start()
        slots.append(downstream)
    return source, slots[0], slots[1], subscriber


def received(subscriber: socket.socket, count: int) -> list[bytes]:
    rx = Session(policy=policy(Policy.SSRC_ANY_INBOUND))
    return [rx.unprotect(subscriber.recv(2048)) for _ in range(count)]


def packet(seq: int, ts: int, payload: bytes, *, marker: bool = True,
           level: tuple[bool, int] | None = None) -> RtpPacket:
    out = RtpPacket(payload_type=100, marker=int(marker), sequence_number=seq & 0xFFFF,
                    timestamp=ts & 0xFFFFFFFF, ssrc=1234, payload=payload)
    out.extensions = HeaderExtensions(audio_level=level)
    return out


async def test_a_video_slot_on_the_lane_writes_what_the_python_path_writes() -> None:
    source, python, native, subscriber = two_slots("video")
    packets = [packet(100, 3000, DELTA)]  # before a keyframe: neither sends
    packets += [packet(101 + i, 6000 + 3000 * (i // 2), (KEY if i == 0 else DELTA) * 40,
                       marker=i % 2 == 1) for i in range(40) if i != 19]
    packets.append(packet(120, 33000, DELTA))  # late (reordered): not the newest
    in_python = []
    native.forward = lambda *a, **k: in_python.append(a[0]) or Downstream.forward(native, *a, **k)
    for p in packets:
        source._on_rtp(p, False)
    wire = python._output.sent  # type: ignore[union-attr]
    assert len(wire) == 40
    # the Python path: the first (no keyframe yet), the keyframe, the late one
    assert [p.sequence_number for p in in_python] == [100, 101, 120]
    assert received(subscriber, len(wire)) == wire
    assert native.lane.enabled  # the steady state: written in C
    assert native.lane.send_errors == 0
    for name in ("sent", "octets"):
        assert getattr(native, name) == getattr(python, name), name
    assert native._report() == python._report()
    # a resend of what C wrote comes from its history: the datagram first sent
    seq = (4000 + 20) & 0xFFFF
    before = native.octets
    native._retransmit(seq)
    python._retransmit(seq)
    datagram = subscriber.recv(2048)
    assert datagram == native.lane.kept(seq)[0]
    assert native.lane.kept(seq)[1] == 1 and native.resent == python.resent == 1
    assert native.octets == before + len(datagram)  # the link carries it again


async def test_a_packet_libsrtp_refuses_is_dropped_not_raised() -> None:
    """One far behind the newest (beyond SRTP's replay window): neither the C lane nor
    its Python write raise into the publisher's receive loop; it is not sent."""
    source, _, native, subscriber = two_slots("video")
    for i in range(200):
        source._on_rtp(packet(1000 + i, 3000 * i, KEY if i == 0 else DELTA), False)
    assert native.lane.enabled
    received(subscriber, 200)
    source._on_rtp(packet(1000, 0, DELTA), False)  # 200 behind: a replay to libsrtp
    assert native.lane.protect_errors == 1 and native.sent == 200
    assert native.lane.write(native.lane.kept((4000 + 199) & 0xFFFF)[0][:12] + b"x") is None


async def test_an_audio_slot_on_the_lane_writes_levels_and_send_times_as_python_does() -> None:
    source, python, native, subscriber = two_slots("audio")
    for i in range(30):
        level = None if i % 7 == 3 else (i % 2 == 0, 30 + i)
        source._on_rtp(packet(9000 + i, 960 * i, b"opus%d" % i, level=level), False)
    wire = python._output.sent  # type: ignore[union-attr]
    assert len(wire) == 30
    assert received(subscriber, 30) == wire
    assert native.lane.enabled and native.sent == python.sent == 30


async def test_a_slot_leaves_the_lane_when_its_stream_restarts() -> None:
    source, python, native, subscriber = two_slots("video")
    for i in range(4):
        source._on_rtp(packet(10 + i, 3000 * i, KEY if i == 0 else DELTA), False)
    assert native.lane.enabled
    native.resume()  # a pause and resume: wait for a keyframe, numbers re-based
    assert not native.lane.enabled
    source._on_rtp(packet(14, 12000, DELTA), False)  # not a keyframe: nothing
    source._on_rtp(packet(15, 15000, KEY), False)
    python.resume()
    assert native.lane.enabled
    native.detach()
    assert not native.lane.enabled
    native.lane.unbind()
    assert not native.lane.bound


@pytest.mark.parametrize("make", [lane_module.Lane, lane_module.PyLane], ids=["C", "Python"])
def test_both_lanes_keep_datagrams_for_resends_by_sequence_number(make) -> None:
    """The C lane and its Python stand-in (a build without a compiler, or
    SALON_MEDIA_FAST_LANE=0) keep the same history."""
    lane = make(is_audio=False)
    assert not lane.enabled and not lane.bound and lane.last_time is None
    lane.keep(70000, b"a")  # numbers are 16-bit
    assert lane.kept(70000 & 0xFFFF) == (b"a", 0)
    lane.count_resend(70000 & 0xFFFF)
    assert lane.kept(70000 & 0xFFFF) == (b"a", 1)
    lane.keep((70000 + 512) & 0xFFFF, b"b")  # the same place in the ring: replaced
    assert lane.kept(70000 & 0xFFFF) is None
    assert lane.kept((70000 + 512) & 0xFFFF) == (b"b", 0)
    lane.last_time, lane.octets = 2.5, 10
    assert (lane.last_time, lane.octets) == (2.5, 10)
    assert lane_module.py_fan_out({1, 2}, 0, 0, 0, b"", None, None, 0.0) in ([1, 2], [2, 1])


async def test_the_lane_writes_on_its_own_copy_of_the_socket() -> None:
    """aioice may close the pair's socket before the slot hears of it: the lane holds
    its own duplicate, so it never writes on a number that has become someone else's,
    and closes it when unbound. A Lane made without __init__ holds nothing."""
    source, _, native, subscriber = two_slots("video")
    gc.collect()  # what earlier tests left to the collector closes now, not mid-count
    opened = len(os.listdir("/proc/self/fd"))
    for i in range(3):
        source._on_rtp(packet(10 + i, 3000 * i, KEY if i == 0 else DELTA), False)
    received(subscriber, 3)
    native._output.sock.close()  # type: ignore[union-attr]  # aioice closes its socket
    source._on_rtp(packet(13, 9000, DELTA), False)
    assert len(subscriber.recv(2048)) > 12  # still its own copy
    native.lane.unbind()
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) == opened - 2  # the socket and the copy
    bare = lane_module.Lane.__new__(lane_module.Lane)
    assert bare.last_time is None and not bare.bound
    del bare
