"""SRTP protection on the forwarding path, without pylibsrtp's per-call overhead.

Every forwarded packet is protected once per subscriber, so this runs more often than
anything else in the SFU. `pylibsrtp.Session.protect` allocates an `int *` with cffi,
type-checks its argument and goes through a name-mangled helper on every call: about
as much time again as the encryption itself (AES-GCM, a microsecond for 1 KB here).
`Protector` does the same call into libsrtp with the length cell allocated once.

It uses the session's own buffer and context (pylibsrtp 1.0.0's `_srtp`, `_cdata`,
`_buffer`; docs/media-design.md §6.8), so it writes the same SRTP stream as
`Session.protect` and can be mixed with it: aiortc protects the RTCP it sends on the
same session. Everything runs on the event loop's thread, so the shared buffer is safe
between calls, and each result is copied out before the next call.
"""

from collections.abc import Callable

from pylibsrtp import ERRORS, SRTP_MAX_TRAILER_LEN, Error, Session
from pylibsrtp._binding import ffi, lib


class Protector:
    """`protect(packet)` for one pylibsrtp `Session`: the same bytes as
    `session.protect(packet)`, with less overhead per call."""

    __slots__ = ("session", "_srtp", "_cdata", "_buffer", "_length", "_limit")

    def __init__(self, session: Session) -> None:
        self.session = session
        self._srtp = session._srtp[0]
        self._cdata = session._cdata
        self._buffer = session._buffer
        self._length = ffi.new("int *")
        self._limit = len(session._cdata) - SRTP_MAX_TRAILER_LEN

    def protect(self, packet: bytes) -> bytes:
        """SRTP-protect one RTP packet; errors as pylibsrtp's (ValueError when too
        long, `pylibsrtp.Error` when libsrtp refuses)."""
        size = len(packet)
        if size > self._limit:
            raise ValueError("packet is too long")
        self._buffer[0:size] = packet
        length = self._length
        length[0] = size
        status = lib.srtp_protect(self._srtp, self._cdata, length)
        if status:
            raise Error(ERRORS[status])
        return self._buffer[0:length[0]]


def _process(self: Session, data: bytes, func: Callable, trailer: int = 0) -> bytes:
    """pylibsrtp 1.0.0's `Session.__process` (behind protect, unprotect and their RTCP
    forms), with its length cell allocated once per session rather than per call: the
    SFU unprotects every packet its publishers and subscribers send."""
    if not isinstance(data, bytes):
        raise TypeError("packet must be bytes")
    size = len(data)
    if size > len(self._cdata) - trailer:
        raise ValueError("packet is too long")
    length = self.__dict__.get("_salon_length")
    if length is None:
        length = self._salon_length = ffi.new("int *")
    length[0] = size
    self._buffer[0:size] = data
    status = func(self._srtp[0], self._cdata, length)
    if status:
        raise Error(ERRORS[status])
    return self._buffer[0:length[0]]


def speed_up_sessions() -> None:
    """Every pylibsrtp `Session` in the process uses `_process` (idempotent)."""
    Session._Session__process = _process  # type: ignore[attr-defined]
