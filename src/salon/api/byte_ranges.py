"""`Range: bytes=…` (RFC 9110 §14): the one part of a file a browser asks for when it
seeks in a video. One range is served (206); a header salon does not understand, or one
with several ranges, is ignored and the whole file sent (200), as the RFC allows.
"""

import re

_ONE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    """The range starts past the end of the file (416)."""


def requested(header: str | None, size: int) -> tuple[int, int] | None:
    """The first and last byte (inclusive) to send, or None for the whole file."""
    match = _ONE.match((header or "").strip().replace(" ", ""))
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise Unsatisfiable
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # not a valid range: ignored
    if start >= size:
        raise Unsatisfiable
    return start, end
