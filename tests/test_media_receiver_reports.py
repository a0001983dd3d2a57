"""A subscriber's receiver reports read before aiortc parses the rest (receiver_reports)."""

import logging
from types import SimpleNamespace

import pytest
from aiortc import RTCCertificate, RTCDtlsTransport, RTCIceGatherer, RTCIceTransport
from aiortc.rtp import (
    RTCP_PSFB_PLI,
    RtcpByePacket,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpSdesPacket,
    RtcpSourceInfo,
)

from salon.media.embedded import receiver_reports, sender_hooks
from salon.media.embedded.failures import ThrottledFailures


def _block(ssrc: int, fraction: int, lsr: int = 0, dlsr: int = 0) -> RtcpReceiverInfo:
    return RtcpReceiverInfo(ssrc=ssrc, fraction_lost=fraction, packets_lost=1,
                            highest_sequence=10, jitter=2, lsr=lsr, dlsr=dlsr)


def _sdes() -> bytes:
    return bytes(RtcpSdesPacket(chunks=[RtcpSourceInfo(ssrc=5, items=[(1, b"me")])]))


def _hearers(*ssrcs: int) -> tuple[dict, list]:
    heard: list[tuple] = []
    senders = {ssrc: SimpleNamespace(_salon_hear_report=(
        lambda *block, ssrc=ssrc: heard.append((ssrc, *block)))) for ssrc in ssrcs}
    return senders, heard


def test_report_blocks_go_to_their_senders_and_the_description_is_dropped() -> None:
    senders, heard = _hearers(77, 78)
    compound = bytes(RtcpRrPacket(ssrc=5, reports=[
        _block(77, 64, lsr=0x12345678, dlsr=3000), _block(78, 0)])) + _sdes()
    assert receiver_reports.take_reports(compound, senders) == b""
    assert heard == [(77, 64, 0x12345678, 3000), (78, 0, 0, 0)]


def test_what_is_not_a_receiver_report_is_left_to_aiortc_as_it_came() -> None:
    senders, heard = _hearers(77)
    pli = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=5, media_ssrc=77))
    bye = bytes(RtcpByePacket(sources=[5]))
    compound = bytes(RtcpRrPacket(ssrc=5, reports=[_block(77, 1)])) + _sdes() + pli + bye
    rest = receiver_reports.take_reports(compound, senders)
    assert rest == pli + bye
    assert [type(p) for p in RtcpPacket.parse(rest)] == [RtcpPsfbPacket, RtcpByePacket]
    assert heard == [(77, 1, 0, 0)]


def test_a_report_about_a_sender_without_the_hook_goes_to_aiortc_whole() -> None:
    senders, heard = _hearers(77)
    senders[99] = SimpleNamespace()  # a sender salon did not hook
    report = bytes(RtcpRrPacket(ssrc=5, reports=[_block(77, 1), _block(99, 2)]))
    assert receiver_reports.take_reports(report + _sdes(), senders) == report
    assert heard == []  # not half of it here and the rest in aiortc


def test_a_block_about_an_ssrc_nobody_sends_is_passed_over_as_aiortc_does() -> None:
    senders, heard = _hearers(77)
    report = bytes(RtcpRrPacket(ssrc=5, reports=[_block(4242, 9), _block(77, 1)]))
    assert receiver_reports.take_reports(report, senders) == b""
    assert heard == [(77, 1, 0, 0)]


def test_an_empty_report_is_taken_and_a_malformed_compound_is_left_whole() -> None:
    senders, heard = _hearers(77)
    empty = bytes(RtcpRrPacket(ssrc=5, reports=[]))
    assert receiver_reports.take_reports(empty, senders) == b""
    report = bytes(RtcpRrPacket(ssrc=5, reports=[_block(77, 1)]))
    for broken in (report[:-4],                        # shorter than its length says
                   report + b"\x80\xc9",               # a header cut short
                   bytes([report[0] & 0x3F]) + report[1:],  # version 0
                   bytes([report[0] | 0x20]) + report[1:]):  # padding: aiortc's parser
        assert receiver_reports.take_reports(broken, senders) == broken
    # a count of two blocks in a report whose length holds one: left to aiortc whole,
    # the packet after it too, rather than a block read from the PLI that follows
    pli = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=5, media_ssrc=77))
    miscounted = bytes([report[0] + 1]) + report[1:] + pli
    assert receiver_reports.take_reports(miscounted, senders) == miscounted[:len(report)] + pli
    assert heard == []


def test_a_hearer_that_fails_is_logged_and_the_rest_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    """An exception out of `take_reports` would end aiortc's receive loop, and the
    subscriber's connection with it."""
    senders, heard = _hearers(78)

    def broken(*block: int) -> None:
        raise RuntimeError("an estimator bug")

    senders[77] = SimpleNamespace(_salon_hear_report=broken)
    pli = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=5, media_ssrc=77))
    compound = bytes(RtcpRrPacket(ssrc=5, reports=[_block(77, 1), _block(78, 2)])) + pli
    with caplog.at_level(logging.ERROR, logger="salon.media"):
        assert receiver_reports.take_reports(compound, senders) == pli
    assert heard == [(78, 2, 0, 0)]
    assert "a receiver report was not heard" in caplog.text


def test_the_reader_installs_on_aiortcs_own_transport() -> None:
    """The attributes it relies on, on the pinned aiortc (docs/media-design.md §6.8)."""
    dtls = RTCDtlsTransport(RTCIceTransport(RTCIceGatherer()),
                            [RTCCertificate.generateCertificate()])
    stock = dtls._handle_rtcp_data
    receiver_reports.read_reports_first(dtls)
    assert dtls._handle_rtcp_data is not stock and dtls._salon_reads_reports
    assert isinstance(dtls._rtp_router.senders, dict)


async def test_the_transport_reads_reports_after_the_first_one_came_through_aiortc(
        ) -> None:
    """hook_feedback installs the reader on the transport the first report came by;
    from then on aiortc's handler gets only what is left."""
    to_aiortc: list[bytes] = []

    async def aiortc_handle_rtcp_data(data: bytes) -> None:
        to_aiortc.append(data)

    senders: dict = {}
    dtls = SimpleNamespace(_handle_rtcp_data=aiortc_handle_rtcp_data,
                           _rtp_router=SimpleNamespace(senders=senders))

    async def aiortc_handling(packet) -> None:
        raise AssertionError("a report reached aiortc's sender")

    sender = SimpleNamespace(_ssrc=77, _handle_rtcp_packet=aiortc_handling, transport=dtls)
    senders[77] = sender
    losses: list[tuple] = []
    sender_hooks.hook_feedback(sender, lambda *loss: losses.append(loss), lambda bps: None)
    report = RtcpRrPacket(ssrc=5, reports=[_block(77, 128)])
    await sender._handle_rtcp_packet(report)  # the first one, the way aiortc routes it
    assert losses == [(0.5, None, None)]
    pli = bytes(RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=5, media_ssrc=77))
    await dtls._handle_rtcp_data(bytes(report) + _sdes() + pli)
    assert losses == [(0.5, None, None)] * 2
    assert to_aiortc == [pli]
    receiver_reports.read_reports_first(dtls)  # idempotent: not wrapped twice
    await dtls._handle_rtcp_data(bytes(report))
    assert len(losses) == 3 and to_aiortc == [pli]


def test_failures_are_told_once_per_stretch(caplog: pytest.LogCaptureFixture,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("salon.media.embedded.failures.time.monotonic", lambda: clock[0])
    failures = ThrottledFailures(logging.getLogger("salon.media"), "it failed", 10.0)
    with caplog.at_level(logging.ERROR, logger="salon.media"):
        for at in (100.0, 101.0, 105.0, 110.5):
            clock[0] = at
            try:
                raise ValueError(at)
            except ValueError:
                failures.log()
    told = [record.getMessage() for record in caplog.records]
    assert told == ["it failed (0 more since the last report)",
                    "it failed (2 more since the last report)"]
