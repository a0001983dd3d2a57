"""A subscriber's receiver reports, read by salon before aiortc parses the rest of the
compound RTCP packet (issue 18; docs/media-design.md §6.8).

Every stream a subscriber receives reports about once a second: at fifty subscribers a
hundred RTCP packets a second, each a receiver report and a source description. aiortc
parses the whole compound into packet objects, routes each to every sender it names and
awaits each sender's handler, only for salon's hook (`sender_hooks.hook_feedback`) to
stop the report there; the source description goes to nobody. In the server that took
~150 µs a packet, most of the subscribers' feedback cost.

So `read_reports_first` gives a subscriber's DTLS transport a `_handle_rtcp_data` that
reads the receiver reports itself, hands each report block to the sender it is about
(the `_salon_hear_report` that `hook_feedback` sets), drops the source descriptions as
aiortc does, and passes what is left (NACKs, PLIs, REMBs, BYEs, sender reports, and any
receiver report it cannot hand over whole) to aiortc's own handler, unchanged.
"""

import logging
import struct
from collections.abc import Callable

from salon.media.embedded.failures import ThrottledFailures

log = logging.getLogger("salon.media")

#: The RTCP header (RFC 3550 §6.4): V, P, count; packet type; length in words less one.
_HEADER = struct.Struct("!BBH")
#: A report block: SSRC, fraction lost and cumulative lost, highest sequence number,
#: jitter, LSR, DLSR.
_BLOCK = struct.Struct("!IIIIII")
_RR = 201
_SDES = 202

#: What a sender hears a report block with: (fraction lost in 1/256, LSR, DLSR).
HearReport = Callable[[int, int, int], None]


def read_reports_first(dtls) -> None:
    """Have `dtls` (an `RTCDtlsTransport`) read its receiver reports before aiortc does.
    Idempotent."""
    if getattr(dtls, "_salon_reads_reports", False):
        return
    original = dtls._handle_rtcp_data
    senders = dtls._rtp_router.senders  # SSRC -> RTCRtpSender

    async def handle_rtcp_data(data: bytes) -> None:
        rest = take_reports(data, senders)
        if rest:
            await original(rest)

    dtls._handle_rtcp_data = handle_rtcp_data
    dtls._salon_reads_reports = True


def take_reports(data: bytes, senders: dict) -> bytes:
    """Hand every block of `data`'s receiver reports to its sender; what is left of the
    compound packet for aiortc (b"" when nothing is). A compound packet that is not
    well formed is left whole to aiortc, which logs and drops it as it always did."""
    spans = _split(data)
    if spans is None:
        return data
    rest = []
    for packet_type, start, end in spans:
        if packet_type == _SDES:
            continue  # aiortc routes a source description to nobody
        if packet_type == _RR:
            hearers = _hearers(data, start, end, senders)
            if hearers is not None:
                for hear, block in hearers:
                    _, lost, _, _, lsr, dlsr = _BLOCK.unpack_from(data, block)
                    try:
                        hear(lost >> 24, lsr, dlsr)
                    except Exception:  # noqa: BLE001 - never out into aiortc's transport
                        _failures.log()
                continue
        rest.append(data[start:end])
    return b"".join(rest)


#: An exception out of `take_reports` would end aiortc's receive loop, and with it
#: the subscriber's connection: each is logged instead (at most one a 10 s).
_failures = ThrottledFailures(log, "a receiver report was not heard")


def _split(data: bytes) -> list[tuple[int, int, int]] | None:
    """(packet type, start, end) of each packet of the compound, or None when it is
    not well formed, or uses padding (left to aiortc's parser)."""
    spans = []
    position, size = 0, len(data)
    while position < size:
        if size - position < _HEADER.size:
            return None
        first, packet_type, length = _HEADER.unpack_from(data, position)
        end = position + 4 + 4 * length
        if first >> 6 != 2 or first & 0x20 or end > size:
            return None
        spans.append((packet_type, position, end))
        position = end
    return spans


def _hearers(data: bytes, start: int, end: int, senders: dict
             ) -> list[tuple[HearReport, int]] | None:
    """(the hearer, the block's offset) of each report block about one of the senders,
    or None when the report is not one salon reads whole (a block about a sender
    without the hook, or a length that does not hold its blocks): aiortc then routes it
    as before. A block about an SSRC no sender has (a retransmission stream's, which
    browsers report on) is passed over, as aiortc's router passes it over."""
    count = data[start] & 0x1F
    if 8 + _BLOCK.size * count > end - start:
        return None
    hearers = []
    for block in range(start + 8, start + 8 + _BLOCK.size * count, _BLOCK.size):
        sender = senders.get(int.from_bytes(data[block:block + 4], "big"))
        if sender is None:
            continue
        hear = getattr(sender, "_salon_hear_report", None)
        if hear is None:
            return None
        hearers.append((hear, block))
    return hearers
