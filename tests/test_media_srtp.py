"""`srtp.Protector` writes exactly the SRTP stream `pylibsrtp.Session.protect` writes,
can be mixed with it on one session (aiortc protects its RTCP on the same one), and
fails as pylibsrtp does."""

import os
import struct

import pytest
from pylibsrtp import Error, Policy, Session

from salon.media.embedded.srtp import Protector

PROFILES = [(Policy.SRTP_PROFILE_AEAD_AES_128_GCM, 28), (Policy.SRTP_PROFILE_AES128_CM_SHA1_80, 30)]


def rtp_packet(seq: int, size: int = 1100, ssrc: int = 0x1234) -> bytes:
    return struct.pack("!BBHII", 0x80, 96, seq, seq * 3000, ssrc) + os.urandom(size)


def pair(profile: int, key_len: int) -> tuple[Session, Session, Session]:
    """Two senders on the same key (one for each implementation) and a receiver."""
    key = os.urandom(key_len)
    out = [Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_OUTBOUND, srtp_profile=profile))
           for _ in range(2)]
    receiver = Session(Policy(key=key, ssrc_type=Policy.SSRC_ANY_INBOUND, srtp_profile=profile))
    return out[0], out[1], receiver


@pytest.mark.parametrize(("profile", "key_len"), PROFILES)
def test_the_same_bytes_as_pylibsrtp_and_the_receiver_reads_them(profile: int,
                                                                  key_len: int) -> None:
    stock, ours, receiver = pair(profile, key_len)
    protector = Protector(ours)
    for seq in range(1, 40):
        packet = rtp_packet(seq, size=seq * 30)
        datagram = protector.protect(packet)
        assert datagram == stock.protect(packet)
        assert receiver.unprotect(datagram) == packet


def test_mixed_with_session_protect_on_one_session() -> None:
    stock, ours, receiver = pair(*PROFILES[0])
    protector = Protector(ours)
    for seq in range(1, 20):
        packet = rtp_packet(seq)
        datagram = protector.protect(packet) if seq % 2 else ours.protect(packet)
        assert datagram == stock.protect(packet)
        assert receiver.unprotect(datagram) == packet


def test_fails_as_pylibsrtp_does() -> None:
    _, ours, _ = pair(*PROFILES[0])
    protector = Protector(ours)
    with pytest.raises(ValueError, match="too long"):
        protector.protect(rtp_packet(1, size=1500))
    packet = rtp_packet(7)
    protector.protect(packet)
    with pytest.raises(Error):  # the same packet again is a replay libsrtp refuses
        protector.protect(packet)


@pytest.mark.parametrize(("profile", "key_len"), PROFILES)
def test_sessions_sped_up_write_and_read_what_pylibsrtp_does(profile: int,
                                                            key_len: int) -> None:
    """`speed_up_sessions` (every Session's protect and unprotect, RTP and RTCP, with
    its length cell allocated once): the same bytes, the same errors."""
    from salon.media.embedded import srtp

    def packet(seq: int) -> bytes:
        return struct.pack("!BBHII", 0x80, 96, seq, seq * 3000, 0x1234) + bytes([seq]) * seq * 20

    stock, ours, receiver = pair(profile, key_len)
    expected = [stock.protect(packet(seq)) for seq in range(1, 30)]
    rtcp = struct.pack("!BBHI", 0x80, 200, 6, 0x1234) + bytes(20)
    expected_rtcp = stock.protect_rtcp(rtcp)
    srtp.speed_up_sessions()
    assert Session._Session__process is srtp._process  # type: ignore[attr-defined]
    got = [ours.protect(packet(seq)) for seq in range(1, 30)]
    assert got == expected
    assert [receiver.unprotect(d) for d in got] == [packet(seq) for seq in range(1, 30)]
    assert ours.protect_rtcp(rtcp) == expected_rtcp
    with pytest.raises(Error):
        receiver.unprotect(got[0])  # a replay
    with pytest.raises(ValueError, match="too long"):
        ours.protect(rtp_packet(99, size=1500))
    with pytest.raises(TypeError):
        ours.protect("not bytes")  # type: ignore[arg-type]
