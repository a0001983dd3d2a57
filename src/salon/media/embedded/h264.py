"""The picture size of an H.264 stream, read from its sequence parameter set (ITU-T
H.264 §7.3.2.1.1), as the SFU needs it for simulcast: a simulcast track's encodings
are ordered low to high by the size of their keyframes, and a subscriber's tile picks
the lowest encoding at least as tall (docs/media-design.md §6.10). VP8 says its size in
every keyframe's header (vp8.keyframe_size); H.264 says it in the SPS that encoders send
at the start of each key access unit, alone or in a STAP-A (RFC 6184 §5.6–5.7).

Plain functions over bytes, no I/O; malformed input gives None, never an exception
(tests/test_h264_size.py).
"""

#: NAL unit types (H.264 Table 7-1, RFC 6184 §5.4).
SPS = 7
STAP_A = 24
#: profile_idc values whose SPS carries chroma_format_idc and the bit depths (§7.3.2.1.1).
_HIGH_PROFILES = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135})


class _Bits:
    """An RBSP read bit by bit, with Exp-Golomb codes (§9.1)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def bit(self) -> int:
        byte = self.at >> 3
        if byte >= len(self.data):
            raise IndexError("past the end of the SPS")
        value = (self.data[byte] >> (7 - (self.at & 7))) & 1
        self.at += 1
        return value

    def bits(self, n: int) -> int:
        value = 0
        for _ in range(n):
            value = value << 1 | self.bit()
        return value

    def ue(self) -> int:
        zeros = 0
        while not self.bit():
            zeros += 1
            if zeros > 31:
                raise ValueError("an Exp-Golomb code longer than 32 bits")
        return (1 << zeros) - 1 + self.bits(zeros)

    def se(self) -> int:
        code = self.ue()
        return (code + 1) // 2 if code & 1 else -(code // 2)


def _rbsp(nal: bytes) -> bytes:
    """The NAL unit's payload without its header byte and emulation prevention bytes
    (00 00 03 → 00 00, §7.4.1)."""
    out, zeros = bytearray(), 0
    for byte in nal[1:]:
        if zeros >= 2 and byte == 3:
            zeros = 0
            continue
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + bits.se() + 256) % 256
        last = next_scale or last


def sps_size(nal: bytes) -> tuple[int, int] | None:
    """(width, height) in pixels, after cropping, of the SPS NAL unit `nal` (header byte
    included); None if it is not an SPS or cannot be read."""
    if not nal or nal[0] & 0x1F != SPS:
        return None
    try:
        bits = _Bits(_rbsp(nal))
        profile = bits.bits(8)
        bits.bits(16)  # constraint flags, level_idc
        bits.ue()  # seq_parameter_set_id
        chroma_format = 1
        if profile in _HIGH_PROFILES:
            chroma_format = bits.ue()
            if chroma_format == 3 and bits.bit():  # separate_colour_plane_flag
                chroma_format = 0  # ChromaArrayType 0: cropped in luma samples
            bits.ue()  # bit_depth_luma_minus8
            bits.ue()  # bit_depth_chroma_minus8
            bits.bit()  # qpprime_y_zero_transform_bypass_flag
            if bits.bit():  # seq_scaling_matrix_present_flag
                for i in range(8 if chroma_format != 3 else 12):
                    if bits.bit():
                        _skip_scaling_list(bits, 16 if i < 6 else 64)
        bits.ue()  # log2_max_frame_num_minus4
        poc_type = bits.ue()
        if poc_type == 0:
            bits.ue()  # log2_max_pic_order_cnt_lsb_minus4
        elif poc_type == 1:
            bits.bit()  # delta_pic_order_always_zero_flag
            bits.se()
            bits.se()
            for _ in range(bits.ue()):
                bits.se()
        bits.ue()  # max_num_ref_frames
        bits.bit()  # gaps_in_frame_num_value_allowed_flag
        width_mbs = bits.ue() + 1
        height_units = bits.ue() + 1
        frame_mbs_only = bits.bit()
        if not frame_mbs_only:
            bits.bit()  # mb_adaptive_frame_field_flag
        bits.bit()  # direct_8x8_inference_flag
        crop = (0, 0, 0, 0)
        if bits.bit():  # frame_cropping_flag
            crop = (bits.ue(), bits.ue(), bits.ue(), bits.ue())
    except (IndexError, ValueError):
        return None
    # §7.4.2.1.1: crop offsets count in chroma samples (CropUnitX/Y)
    fields = 2 - frame_mbs_only
    unit_x, unit_y = ((1, fields) if chroma_format in (0, 3)
                      else (2, 2 * fields) if chroma_format == 1 else (2, fields))
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = fields * height_units * 16 - unit_y * (crop[2] + crop[3])
    if width <= 0 or height <= 0:
        return None
    return width, height


def keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) from the SPS in this RTP payload (a single NAL unit packet or a
    STAP-A holding one); None when the packet holds no readable SPS."""
    if not payload:
        return None
    nal_type = payload[0] & 0x1F
    if nal_type == SPS:
        return sps_size(payload)
    if nal_type == STAP_A:
        i, n = 1, len(payload)
        while i + 2 < n:
            size = payload[i] << 8 | payload[i + 1]
            if payload[i + 2] & 0x1F == SPS:
                return sps_size(payload[i + 2:i + 2 + size])
            i += 2 + size
    return None
