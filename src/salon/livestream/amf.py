"""AMF0, the value encoding of RTMP commands (`connect`, `publish`, `_result`, …): just
the types encoders send and salon answers with."""

import struct
from typing import Any


class AmfError(ValueError):
    pass


def encode(*values: Any) -> bytes:
    return b"".join(_encode(value) for value in values)


def _encode(value: Any) -> bytes:
    if value is None:
        return b"\x05"
    if isinstance(value, bool):
        return b"\x01" + (b"\x01" if value else b"\x00")
    if isinstance(value, int | float):
        return b"\x00" + struct.pack(">d", float(value))
    if isinstance(value, str):
        raw = value.encode()
        if len(raw) > 0xFFFF:
            return b"\x0c" + struct.pack(">I", len(raw)) + raw
        return b"\x02" + struct.pack(">H", len(raw)) + raw
    if isinstance(value, dict):
        return b"\x03" + _properties(value) + b"\x00\x00\x09"
    raise AmfError(f"cannot encode {type(value).__name__} in AMF0")


def _properties(value: dict[str, Any]) -> bytes:
    out = b""
    for key, item in value.items():
        raw = key.encode()
        out += struct.pack(">H", len(raw)) + raw + _encode(item)
    return out


def decode(data: bytes) -> list[Any]:
    """Every value in `data`, in order (AmfError if it is not AMF0)."""
    values = []
    position = 0
    try:
        while position < len(data):
            value, position = _decode(data, position, 0)
            values.append(value)
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise AmfError(f"malformed AMF0 at byte {position}") from exc
    return values


def _decode(data: bytes, at: int, depth: int) -> tuple[Any, int]:
    if depth > 16:
        raise AmfError("AMF0 nested too deep")
    kind = data[at]
    at += 1
    if kind == 0x00:
        return struct.unpack_from(">d", data, at)[0], at + 8
    if kind == 0x01:
        return data[at] != 0, at + 1
    if kind == 0x02:
        size = struct.unpack_from(">H", data, at)[0]
        return _take(data, at + 2, size).decode(), at + 2 + size
    if kind == 0x0C:
        size = struct.unpack_from(">I", data, at)[0]
        return _take(data, at + 4, size).decode(), at + 4 + size
    if kind in (0x05, 0x06):
        return None, at
    if kind in (0x03, 0x08):  # object, ECMA array (with a count first)
        if kind == 0x08:
            at += 4
        result: dict[str, Any] = {}
        while True:
            size = struct.unpack_from(">H", data, at)[0]
            at += 2
            if size == 0 and data[at] == 0x09:
                return result, at + 1
            key = _take(data, at, size).decode()
            result[key], at = _decode(data, at + size, depth + 1)
    if kind == 0x0A:  # strict array
        count = struct.unpack_from(">I", data, at)[0]
        at += 4
        items = []
        for _ in range(min(count, 10_000)):
            item, at = _decode(data, at, depth + 1)
            items.append(item)
        return items, at
    if kind == 0x0B:  # date: ms since the epoch and a time zone
        return struct.unpack_from(">d", data, at)[0], at + 10
    raise AmfError(f"AMF0 type {kind:#x} is not supported")


def _take(data: bytes, at: int, size: int) -> bytes:
    if at + size > len(data):
        raise AmfError("AMF0 value runs past the end of the message")
    return data[at:at + size]
