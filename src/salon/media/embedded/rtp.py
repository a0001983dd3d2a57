"""The little RTP the forwarder writes itself: where a keyframe starts in a packet (and
whether a reassembled frame is one, for pass-through receivers), and
a packet header carrying the subscriber's own sequence numbers, timestamps and
header-extension ids (RFC 3550 §5.1, RFC 8285 §4.2, RFC 7741 for VP8, RFC 6184 for H.264).

No aiortc here: these are plain functions over bytes, tested on their own.
"""

import struct

#: V=2, X=1 (one-byte extensions follow), no padding, no CSRC.
FIRST_BYTE = 0x90
HEADER = struct.Struct("!BBHII")
#: RFC 8285 §4.2: the profile of one-byte header extensions.
ONE_BYTE_PROFILE = b"\xbe\xde"

MID_URI = "urn:ietf:params:rtp-hdrext:sdes:mid"
ABS_SEND_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
AUDIO_LEVEL_URI = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"


def vp8_starts_keyframe(payload: bytes) -> bool:
    """The packet opens a VP8 key frame: the start of partition 0 (RFC 7741 §4.2: S=1,
    PID=0) whose payload header has P=0 (§4.3: the inverse key-frame flag)."""
    n = len(payload)
    if n == 0:
        return False
    first = payload[0]
    if not first & 0x10 or first & 0x07:
        return False
    i = 1
    if first & 0x80:  # X: an extension byte follows
        if n < 2:
            return False
        ext = payload[1]
        i = 2
        if ext & 0x80:  # I: PictureID, 7 or 15 bits (M flag)
            if n <= i:
                return False
            i += 2 if payload[i] & 0x80 else 1
        if ext & 0x40:  # L: TL0PICIDX
            i += 1
        if ext & 0x30:  # T or K: TID/Y/KEYIDX share one byte
            i += 1
    return n > i and not payload[i] & 0x01


def _h264_key_nal(nal_type: int) -> bool:
    # An IDR slice, or the SPS that encoders send first in a key access unit.
    return nal_type == 5 or nal_type == 7


def h264_starts_keyframe(payload: bytes) -> bool:
    """The packet opens an H.264 key access unit: a single SPS or IDR NAL unit, a STAP-A
    holding one, or the first fragment (FU-A, S=1) of one (RFC 6184 §5.6–5.8)."""
    n = len(payload)
    if n == 0:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type == 24:  # STAP-A: (16-bit size, NAL unit)*
        i = 1
        while i + 2 < n:
            if _h264_key_nal(payload[i + 2] & 0x1F):
                return True
            i += 2 + (payload[i] << 8 | payload[i + 1])
        return False
    if nal_type == 28:  # FU-A: FU header's S bit and the fragmented NAL's type
        return n > 1 and bool(payload[1] & 0x80) and _h264_key_nal(payload[1] & 0x1F)
    return _h264_key_nal(nal_type)


def starts_keyframe(codec_mime: str, payload: bytes) -> bool:
    """Whether a subscriber waiting for a keyframe may start at this packet."""
    name = codec_mime.lower()
    if name == "video/vp8":
        return vp8_starts_keyframe(payload)
    if name == "video/h264":
        return h264_starts_keyframe(payload)
    return not name.startswith("video/")  # audio: any packet will do


def element(ext_id: int, value: bytes) -> bytes:
    """One one-byte-header extension element (RFC 8285 §4.2: ids 1–14, 1–16 bytes)."""
    return bytes(((ext_id << 4) | (len(value) - 1),)) + value


def extension_block(elements: bytes) -> bytes:
    """The header extension: profile, length in 32-bit words, elements, zero padding."""
    pad = -len(elements) % 4
    words = (len(elements) + pad) >> 2
    return ONE_BYTE_PROFILE + words.to_bytes(2, "big") + elements + b"\x00" * pad


def extension_frame(fixed: bytes, values: int) -> tuple[bytes, bytes]:
    """The parts of `extension_block(fixed + v)` that do not depend on `v`, for
    per-packet element bytes `v` of `values` bytes: (profile, length and `fixed`; the
    zero padding). Written per subscriber per packet, so computed once per slot."""
    pad = -(len(fixed) + values) % 4
    words = (len(fixed) + values + pad) >> 2
    return ONE_BYTE_PROFILE + words.to_bytes(2, "big") + fixed, b"\x00" * pad


def abs_send_time(now: float) -> bytes:
    """abs-send-time: seconds in 6.18 fixed point, 24 bits. Receivers use differences
    only, so the epoch (Unix here, NTP in aiortc) does not matter."""
    return (int(now * 262144) & 0xFFFFFF).to_bytes(3, "big")


def audio_level(vad: bool, dbov: int) -> bytes:
    """RFC 6464: the voice-activity bit and the level in -dBov (0 loudest, 127 silence)."""
    return bytes(((0x80 if vad else 0) | (dbov & 0x7F),))


# --- whole frames (pass-through receivers, pre-encoded files) --------------------------------

def vp8_is_keyframe(data: bytes) -> bool:
    """RFC 6386 §9.1: bit 0 of the frame tag is the inverse key-frame flag."""
    return len(data) > 0 and (data[0] & 0x01) == 0


def h264_is_keyframe(data: bytes) -> bool:
    """Annex B as aiortc's depayloader rebuilds it: any IDR (5) or SPS (7) NAL unit."""
    i, n = 0, len(data)
    while True:
        i = data.find(b"\x00\x00\x01", i)
        if i < 0 or i + 3 >= n:
            return False
        if data[i + 3] & 0x1F in (5, 7):
            return True
        i += 3


def frame_is_keyframe(codec_name: str, data: bytes) -> bool:
    name = codec_name.lower()
    if name == "vp8":
        return vp8_is_keyframe(data)
    if name == "h264":
        return h264_is_keyframe(data)
    return True  # audio: every frame stands alone
