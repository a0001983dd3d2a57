"""The forwarding fast lane (docs/media-design.md §6.12): a slot's stream state — our
sequence numbers and timestamps, figures, the datagrams kept for resends — in a `Lane`,
and `fan_out`, which writes one packet on every slot whose lane is `enabled`.

The C module `_lane` (built with the package, `_lane.c`) does the steady state of a
slot in one call per incoming packet: rewrite the header, protect with libsrtp, send.
Without it (a build without a compiler) this module gives the same `Lane` in Python,
never bound to a transport, and a `fan_out` that leaves every slot to the Python path
(downstream.py): slower, the same packets.

`bind` needs what only aiortc's and pylibsrtp's internals know: `srtp_binding` gives
the SRTP context of a pylibsrtp `Session` and libsrtp's `srtp_protect` as addresses.
"""

import os
from collections.abc import Iterable
from typing import Any

from pylibsrtp import SRTP_MAX_TRAILER_LEN, Session
from pylibsrtp._binding import ffi, lib

#: Sent datagrams a slot keeps for resends (NACK), by sequence number.
HISTORY = 512


def srtp_binding(session: Session) -> tuple[int, int, int]:
    """(the session's `srtp_t`, libsrtp's `srtp_protect`, as addresses; the longest
    packet the session's own buffer protects, as `srtp.Protector` does) for `bind`."""
    context = int(ffi.cast("uintptr_t", session._srtp[0]))
    protect = int(ffi.cast("uintptr_t", ffi.addressof(lib, "srtp_protect")))
    return context, protect, len(session._cdata) - SRTP_MAX_TRAILER_LEN


class PyLane:
    """A slot's stream state without the C module: the same attributes and methods;
    `bound` stays False, so the Python path writes every packet."""

    __slots__ = ("enabled", "is_audio", "ssrc", "payload_type", "seq_offset", "ts_offset",
                 "next_seq", "last_ts", "last_time", "packets", "payload_octets", "octets",
                 "sent", "send_errors", "protect_errors", "bound", "_history")

    def __init__(self, is_audio: bool = False) -> None:
        self.enabled = False
        self.is_audio = is_audio
        self.ssrc = self.payload_type = 0
        self.seq_offset = self.ts_offset = self.next_seq = self.last_ts = 0
        self.last_time: float | None = None
        self.packets = self.payload_octets = self.octets = self.sent = 0
        self.send_errors = self.protect_errors = 0
        self.bound = False
        self._history: list[tuple[int, bytes, int] | None] = [None] * HISTORY

    def configure(self, ssrc: int, payload_type: int, ext_head: bytes, ext_pad: bytes,
                  ext_head_level: bytes, ext_pad_level: bytes, send_time: bool,
                  level_id: int) -> None:
        self.ssrc, self.payload_type = ssrc, payload_type

    def bind(self, srtp: int, protect: int, max_packet: int, fd: int, host: str,
             port: int) -> None:
        """Nothing to bind to without the C module: the Python path sends."""

    def unbind(self) -> None:
        self.enabled = False

    def write(self, packet: bytes) -> bytes:
        raise RuntimeError("the lane is not bound to a transport")

    def resend(self, datagram: bytes) -> None:
        raise RuntimeError("the lane is not bound to a transport")

    def keep(self, seq: int, datagram: bytes) -> None:
        self._history[seq % HISTORY] = (seq & 0xFFFF, datagram, 0)

    def kept(self, seq: int) -> tuple[bytes, int] | None:
        entry = self._history[seq % HISTORY]
        if entry is None or entry[0] != seq & 0xFFFF:
            return None
        return entry[1], entry[2]

    def count_resend(self, seq: int) -> None:
        entry = self._history[seq % HISTORY]
        if entry is not None and entry[0] == seq & 0xFFFF:
            self._history[seq % HISTORY] = (entry[0], entry[1], entry[2] + 1)


def py_fan_out(slots: Iterable[Any], marker: int, seq: int, timestamp: int,
               payload: bytes, send_time: bytes | None, level: bytes | None,
               now: float) -> list[Any]:
    """Every slot is the Python path's."""
    return list(slots)


#: `SALON_MEDIA_FAST_LANE=0` keeps every packet on the Python path (to compare, or to
#: rule the C module out when something looks wrong).
try:
    if os.environ.get("SALON_MEDIA_FAST_LANE", "1") == "0":
        raise ImportError("turned off by SALON_MEDIA_FAST_LANE=0")
    from salon.media.embedded._lane import Lane, fan_out
    NATIVE = True
except ImportError:  # built without a C compiler, or turned off
    Lane = PyLane  # type: ignore[assignment,misc]
    fan_out = py_fan_out
    NATIVE = False
