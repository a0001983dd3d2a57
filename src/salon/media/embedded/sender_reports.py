"""RTCP sender reports of a forwarding slot (RFC 3550 §6.4.1), in place of aiortc's.

aiortc's sender reports count what its own sender loop sent, and a slot writes its
packets itself (`sender_hooks.RtpOutput`): the reports must carry salon's counts and clock. And
with fifty subscribers to one publisher they are a share of the SFU's work worth
keeping small: aiortc sends one per sender every 0.5–1.5 s, audio and video alike,
each through a chain of three awaits. Here video reports every second and audio every
five, as libwebrtc does, jittered by ±50 % (RFC 3550 §6.3.1 spreads them so that
senders do not fall in step), each written at once through the slot's `RtpOutput`.

Each report is stamped with the moment it leaves, its RTP timestamp carried on from the
last packet's at the stream's clock rate (RFC 3550 §6.4.1). The middle 32 bits of that
NTP time are kept with the moment, so that the round trip of the subscriber's receiver
reports can be measured (`sender_hooks.hook_feedback`: now − LSR − DLSR). (Stamped with
the last packet's time instead, two reports of a stream that sent nothing in between
carried the same NTP time, and an echo of the first was timed from the second: a round
trip of 0, which once let a padding probe win on a full link.)

This replaces the instance's `RTCRtpSender._run_rtcp` (aiortc 1.16.0: the coroutine
`send()` starts; `__rtcp_started` and `__rtcp_exited` are the events `stop()` waits
on; `__cname`, `_ssrc`; docs/media-design.md §6.8).
"""

import asyncio
import logging
import random
import struct
import time
from collections.abc import Callable

from aiortc.rtp import RtcpByePacket

from salon.media.embedded.hooks import NTP_EPOCH_OFFSET
from salon.media.embedded.sender_hooks import RtpOutput

log = logging.getLogger("salon.media")

#: Seconds between reports, before jitter (libwebrtc's video and audio intervals).
INTERVAL_SECS = {"video": 1.0, "audio": 5.0}
#: Reports remembered for round trips (a receiver report echoes one of the latest).
KEPT = 8

#: (wall time of the last packet written, its RTP timestamp, packets, payload octets).
Figures = tuple[float, int, int, int]

#: A sender report without report blocks (RFC 3550 §6.4.1): V=2, PT=200, length 6.
_SR = struct.Struct("!BBHIQIII")


def sender_report(ssrc: int, ntp: int, rtp_timestamp: int, packets: int,
                  octets: int) -> bytes:
    """The SR's bytes, written directly: aiortc's packet classes took ~14 µs a report
    here, fifty subscribers' worth of which were a visible share of the SFU."""
    return _SR.pack(0x80, 200, 6, ssrc, ntp & 0xFFFFFFFFFFFFFFFF,
                    rtp_timestamp & 0xFFFFFFFF, packets & 0xFFFFFFFF, octets & 0xFFFFFFFF)


def source_description(ssrc: int, cname: bytes) -> bytes:
    """An SDES with one chunk: the CNAME (RFC 3550 §6.5), then END and padding."""
    chunk = struct.pack("!IBB", ssrc, 1, len(cname)) + cname + b"\x00\x00"  # END, as aiortc
    chunk += b"\x00" * (-len(chunk) % 4)  # to a whole word
    return struct.pack("!BBH", 0x81, 202, len(chunk) // 4) + chunk


def report_for(sender, output: RtpOutput, figures: Callable[[], Figures | None],
               kind: str, clock_rate: Callable[[], int]) -> Callable[[], None]:
    """Make `sender` report salon's `figures()` every `INTERVAL_SECS[kind]` through
    `output`, RTP time carried on at `clock_rate()` (the negotiated codec's). Call before aiortc's `send()` starts the sender's RTCP loop (`bind`).
    Returns what sends one report now (a padding probe wants one through the link it
    has filled: its echo's round trip says whether a queue built up)."""
    interval = INTERVAL_SECS.get(kind, 1.0)
    sent_at: dict[int, float] = sender.__dict__.setdefault("_salon_sr_times", {})

    sdes: tuple[int, bytes] | None = None  # (SSRC, its SDES), made once

    def write(payload: bytes) -> None:
        if not output.ready():
            return
        try:
            output.resend(sender._RTCRtpSender__transport._tx_srtp.protect_rtcp(payload))
        except Exception:  # a transport closing under us: the next report tries again
            log.debug("a sender report was not sent", exc_info=True)

    def report() -> None:
        latest = figures()
        if latest is None:
            return  # nothing sent yet: nothing to report
        nonlocal sdes
        wall, rtp_timestamp, count, octets = latest
        now = time.time()
        rtp_now = rtp_timestamp + round(max(0.0, now - wall) * clock_rate())
        ntp = int((now + NTP_EPOCH_OFFSET) * 4294967296)
        ssrc = sender._ssrc
        payload = sender_report(ssrc, ntp, rtp_now, count, octets)
        cname = sender._RTCRtpSender__cname
        if cname is not None:
            if sdes is None or sdes[0] != ssrc:
                sdes = (ssrc, source_description(ssrc, cname.encode("utf8")))
            payload += sdes[1]
        sent_at[(ntp >> 16) & 0xFFFFFFFF] = now
        while len(sent_at) > KEPT:
            del sent_at[next(iter(sent_at))]
        write(payload)

    async def run_rtcp() -> None:
        sender._RTCRtpSender__rtcp_started.set()
        try:
            while True:
                await asyncio.sleep(interval * (0.5 + random.random()))
                report()
        except asyncio.CancelledError:
            pass
        if figures() is not None:
            write(bytes(RtcpByePacket(sources=[sender._ssrc])))
        sender._RTCRtpSender__rtcp_exited.set()

    sender._run_rtcp = run_rtcp
    return report
