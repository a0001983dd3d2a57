"""The VP8 payload descriptor (RFC 7741 §4.2) as far as temporal layers need it: which
layer a packet belongs to (TID), whether it may be switched up at (Y, layer sync), and
the picture numbering (PictureID, TL0PICIDX) a subscriber's decoder checks for gaps.

An SFU that drops a temporal layer for one subscriber must renumber PictureIDs: the
receiver (libwebrtc's VP8 reference finder) waits for every PictureID it has not seen
before decoding a frame that may depend on it, so a gap left by a dropped TL2 frame
would stall the TL0 frame after it. `rewrite` renumbers in place of the original bytes
(same field widths), so the packet's length never changes.

Plain functions over bytes, no I/O: tested on their own (tests/test_vp8_layers.py).
"""

from typing import NamedTuple


class Descriptor(NamedTuple):
    """What one packet's descriptor says; offsets index into the payload."""

    #: S=1 and PID=0: the packet opens a frame.
    starts_frame: bool
    #: Temporal layer id, or None when the stream carries no layer information
    #: (every packet is then treated as layer 0: nothing can be dropped).
    tid: int | None
    #: Y: this frame depends only on TL0 frames, so a subscriber may switch up here.
    layer_sync: bool
    picture_id: int | None
    #: Offset of the PictureID field and its width in bits (7 or 15).
    picture_id_at: int
    picture_id_bits: int
    tl0picidx: int | None
    tl0picidx_at: int
    #: Where the VP8 payload (after the descriptor) starts.
    header_len: int


NO_LAYERS = Descriptor(False, None, False, None, -1, 0, None, -1, 0)


def parse(payload: bytes) -> Descriptor:
    """Read the descriptor; a truncated one reads as `NO_LAYERS` (forwarded as is)."""
    n = len(payload)
    if n == 0:
        return NO_LAYERS
    first = payload[0]
    starts = bool(first & 0x10) and not first & 0x07
    if not first & 0x80:  # X=0: no extension byte, so no layers and no PictureID
        return Descriptor(starts, None, False, None, -1, 0, None, -1, 1)
    if n < 2:
        return NO_LAYERS
    ext = payload[1]
    i = 2
    picture_id = None
    pid_at, pid_bits = -1, 0
    if ext & 0x80:  # I
        if n <= i:
            return NO_LAYERS
        pid_at = i
        if payload[i] & 0x80:  # M: 15 bits
            if n <= i + 1:
                return NO_LAYERS
            picture_id = ((payload[i] & 0x7F) << 8) | payload[i + 1]
            pid_bits = 15
            i += 2
        else:
            picture_id = payload[i] & 0x7F
            pid_bits = 7
            i += 1
    tl0 = None
    tl0_at = -1
    if ext & 0x40:  # L
        if n <= i:
            return NO_LAYERS
        tl0, tl0_at = payload[i], i
        i += 1
    tid = None
    sync = False
    if ext & 0x30:  # T or K share one byte
        if n <= i:
            return NO_LAYERS
        if ext & 0x20:  # T
            tid = payload[i] >> 6
            sync = bool(payload[i] & 0x20)
        i += 1
    return Descriptor(starts, tid, sync, picture_id, pid_at, pid_bits, tl0, tl0_at, i)


def rewrite(payload: bytes, d: Descriptor, picture_id: int | None,
            tl0picidx: int | None) -> bytes:
    """The payload with its PictureID and TL0PICIDX replaced (each kept to its field's
    width); the same bytes when there is nothing to replace."""
    if (picture_id is None or d.picture_id_at < 0) and (tl0picidx is None
                                                        or d.tl0picidx_at < 0):
        return payload
    out = bytearray(payload)
    if picture_id is not None and d.picture_id_at >= 0:
        at = d.picture_id_at
        if d.picture_id_bits == 15:
            picture_id &= 0x7FFF
            out[at] = 0x80 | (picture_id >> 8)
            out[at + 1] = picture_id & 0xFF
        else:
            out[at] = picture_id & 0x7F
    if tl0picidx is not None and d.tl0picidx_at >= 0:
        out[d.tl0picidx_at] = tl0picidx & 0xFF
    return bytes(out)


def keyframe_size(payload: bytes, header_len: int) -> tuple[int, int] | None:
    """(width, height) of the keyframe that this packet opens (RFC 6386 §9.1: after the
    3-byte frame tag, the start code 9d 01 2a, then 14-bit width and height, little
    endian); None when the packet does not hold that header."""
    i = header_len
    if len(payload) < i + 10 or payload[i + 3:i + 6] != b"\x9d\x01\x2a":
        return None
    width = (payload[i + 6] | payload[i + 7] << 8) & 0x3FFF
    height = (payload[i + 8] | payload[i + 9] << 8) & 0x3FFF
    return width, height
