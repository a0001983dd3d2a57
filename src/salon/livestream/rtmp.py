"""The server side of RTMP, as far as a publishing encoder (OBS, FFmpeg, a hardware
encoder) needs it: the handshake, the chunk stream, and the commands up to `publish`.

FFmpeg's own RTMP listen mode accepts any stream name, so it cannot check a stream key;
salon speaks the protocol itself, reads the key from `publish` before a byte of media is
accepted, and hands the media on as FLV tags (`flv_tag`) to a remuxer.

Chunk timestamps follow FFmpeg's reading of the spec (type 0: absolute; types 1 and 2:
a delta; a type 3 chunk that starts a message repeats the previous delta).
"""

import asyncio
import os
import struct
from dataclasses import dataclass, field

from salon.livestream import amf

HANDSHAKE_SIZE = 1536
#: Message types.
SET_CHUNK_SIZE, ABORT, ACK, USER_CONTROL, WINDOW_ACK_SIZE, PEER_BANDWIDTH = 1, 2, 3, 4, 5, 6
AUDIO, VIDEO, DATA_AMF3, COMMAND_AMF3, DATA, COMMAND = 8, 9, 15, 17, 18, 20
#: What salon asks of the encoder and tells it.
OUT_CHUNK_SIZE = 4096
WINDOW = 5_000_000
#: A message larger than this is refused (a 4K keyframe is a few MB at most).
MAX_MESSAGE = 16 * 1024 * 1024
#: Bytes of unfinished messages a publishing encoder may have buffered, all its chunk
#: streams together (a keyframe with audio interleaved).
MAX_BUFFERED = 2 * MAX_MESSAGE
#: Until `authenticated` (a `publish` with a valid stream key), anyone may connect: such a
#: connection may buffer this much (its largest message, and its unfinished messages
#: together) and open this many chunk streams. An encoder's commands before `publish`
#: (connect, createStream, publish) are a few hundred bytes each, on 2 or 3 streams.
UNAUTHENTICATED_BUFFER = 64 * 1024
UNAUTHENTICATED_CHUNK_STREAMS = 16
FLV_HEADER = b"FLV\x01\x05\x00\x00\x00\x09" + b"\x00\x00\x00\x00"


class RtmpError(Exception):
    pass


@dataclass
class Message:
    type: int
    stream_id: int
    timestamp: int
    payload: bytes


@dataclass
class _Chunks:
    """The state of one chunk stream: the last header, and the message being assembled."""

    timestamp: int = 0
    ts_field: int = 0
    extended: bool = False
    length: int = 0
    type: int = 0
    stream_id: int = 0
    partial: bytearray = field(default_factory=bytearray)
    assembling: bool = False


class RtmpConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.chunk_size = 128
        self.chunks: dict[int, _Chunks] = {}
        self.received = 0
        self.acked = 0
        self.peer_window = 0
        #: Bytes of unfinished messages held in `chunks`, and the limits (`authenticated`).
        self.buffered = 0
        self.max_message = UNAUTHENTICATED_BUFFER
        self.max_buffered = UNAUTHENTICATED_BUFFER
        self.max_chunk_streams: int | None = UNAUTHENTICATED_CHUNK_STREAMS

    def authenticated(self) -> None:
        """The stream key was accepted: media messages (keyframes of megabytes) may come."""
        self.max_message = MAX_MESSAGE
        self.max_buffered = MAX_BUFFERED
        self.max_chunk_streams = None

    async def _read(self, size: int) -> bytes:
        data = await self.reader.readexactly(size)
        self.received += size
        return data

    # --- handshake ---------------------------------------------------------------------

    async def handshake(self) -> None:
        """C0 C1 → S0 S1 S2 → C2. S1 says version 0, so clients skip digest checks."""
        c0 = await self._read(1)
        if c0 != b"\x03":
            raise RtmpError(f"not RTMP (version byte {c0!r})")
        c1 = await self._read(HANDSHAKE_SIZE)
        s1 = b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00" + os.urandom(HANDSHAKE_SIZE - 8)
        self.writer.write(b"\x03" + s1 + c1)
        await self.writer.drain()
        await self._read(HANDSHAKE_SIZE)  # C2: the echo of S1, not checked

    # --- reading -----------------------------------------------------------------------

    async def read_message(self) -> Message:
        """The next complete message; protocol control messages are handled here."""
        while True:
            message = await self._read_chunk()
            if message is None:
                continue
            if message.type == SET_CHUNK_SIZE:
                size = struct.unpack(">I", message.payload[:4])[0] & 0x7FFFFFFF
                if not 1 <= size <= MAX_MESSAGE:
                    raise RtmpError(f"chunk size {size} out of range")
                self.chunk_size = size
            elif message.type == WINDOW_ACK_SIZE:
                self.peer_window = struct.unpack(">I", message.payload[:4])[0]
            elif message.type == ABORT:
                csid = struct.unpack(">I", message.payload[:4])[0]
                if csid in self.chunks:
                    self._drop(self.chunks[csid])
            elif message.type not in (ACK, USER_CONTROL, PEER_BANDWIDTH):
                return message

    async def _read_chunk(self) -> Message | None:
        first = (await self._read(1))[0]
        fmt, csid = first >> 6, first & 0x3F
        if csid == 0:
            csid = 64 + (await self._read(1))[0]
        elif csid == 1:
            low, high = await self._read(2)
            csid = 64 + low + high * 256
        state = self.chunks.get(csid)
        if state is None:
            if self.max_chunk_streams is not None and len(self.chunks) >= self.max_chunk_streams:
                raise RtmpError(f"more than {self.max_chunk_streams} chunk streams")
            state = self.chunks[csid] = _Chunks()
        if fmt == 0:
            header = await self._read(11)
            state.ts_field = int.from_bytes(header[0:3], "big")
            state.length = int.from_bytes(header[3:6], "big")
            state.type = header[6]
            state.stream_id = struct.unpack("<I", header[7:11])[0]
        elif fmt == 1:
            header = await self._read(7)
            state.ts_field = int.from_bytes(header[0:3], "big")
            state.length = int.from_bytes(header[3:6], "big")
            state.type = header[6]
        elif fmt == 2:
            state.ts_field = int.from_bytes(await self._read(3), "big")
        if fmt != 3:
            state.extended = state.ts_field == 0xFFFFFF
        if state.extended:
            extended = struct.unpack(">I", await self._read(4))[0]
            if fmt != 3:
                state.ts_field = extended
        # Checked at every header that sets a length, not only a message's first: a
        # header in the middle of a message may change it.
        if state.length > self.max_message:
            raise RtmpError(f"a message of {state.length} bytes is too large"
                            if self.max_message == MAX_MESSAGE else
                            f"a message of {state.length} bytes before publish")
        if not state.assembling:  # this chunk starts a message
            state.timestamp = (state.ts_field if fmt == 0
                               else (state.timestamp + state.ts_field) & 0xFFFFFFFF)
            state.assembling = True
        elif state.length < len(state.partial):
            raise RtmpError("a chunk header shortens the message being received")
        take = min(self.chunk_size, state.length - len(state.partial))
        if self.buffered + take > self.max_buffered:
            raise RtmpError(f"more than {self.max_buffered} bytes of unfinished messages")
        state.partial += await self._read(take)
        self.buffered += take
        await self._acknowledge()
        if len(state.partial) < state.length:
            return None
        message = Message(state.type, state.stream_id, state.timestamp, bytes(state.partial))
        self._drop(state)
        return message

    def _drop(self, state: _Chunks) -> None:
        """The chunk stream's message is complete or aborted: its buffer is let go."""
        self.buffered -= len(state.partial)
        state.partial = bytearray()
        state.assembling = False

    async def _acknowledge(self) -> None:
        if self.peer_window and self.received - self.acked >= self.peer_window:
            self.acked = self.received
            await self.send(2, ACK, 0, struct.pack(">I", self.received & 0xFFFFFFFF))

    # --- writing -----------------------------------------------------------------------

    async def send(self, csid: int, kind: int, stream_id: int, payload: bytes,
                   timestamp: int = 0) -> None:
        header = bytes([csid & 0x3F]) + min(timestamp, 0xFFFFFF).to_bytes(3, "big") + \
            len(payload).to_bytes(3, "big") + bytes([kind]) + struct.pack("<I", stream_id)
        out = bytearray(header)
        for at in range(0, max(len(payload), 1), OUT_CHUNK_SIZE):
            if at:
                out.append(0xC0 | (csid & 0x3F))
            out += payload[at:at + OUT_CHUNK_SIZE]
        self.writer.write(bytes(out))
        await self.writer.drain()

    async def command(self, name: str, transaction: float, *args: object,
                      stream_id: int = 0) -> None:
        await self.send(3 if stream_id == 0 else 5, COMMAND, stream_id,
                        amf.encode(name, transaction, *args))

    async def accept_connect(self, transaction: float) -> None:
        await self.send(2, WINDOW_ACK_SIZE, 0, struct.pack(">I", WINDOW))
        await self.send(2, PEER_BANDWIDTH, 0, struct.pack(">IB", WINDOW, 2))
        await self.send(2, SET_CHUNK_SIZE, 0, struct.pack(">I", OUT_CHUNK_SIZE))
        await self.command("_result", transaction,
                           {"fmsVer": "FMS/3,0,1,123", "capabilities": 31},
                           {"level": "status", "code": "NetConnection.Connect.Success",
                            "description": "Connection succeeded.", "objectEncoding": 0})

    async def status(self, stream_id: int, level: str, code: str, description: str) -> None:
        await self.command("onStatus", 0, None,
                           {"level": level, "code": code, "description": description},
                           stream_id=stream_id)

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


#: FLV codec ids HLS (MPEG-TS) carries: video 7 (H.264); audio 10 (AAC), 2 (MP3).
VIDEO_CODECS = {7: "H.264"}
AUDIO_CODECS = {10: "AAC", 2: "MP3"}


def unsupported(message: Message) -> str | None:
    """Why a media message cannot go to HLS (its codec), or None."""
    if not message.payload:
        return None
    if message.type == VIDEO:
        codec = message.payload[0] & 0x0F
        if message.payload[0] & 0x80 or codec not in VIDEO_CODECS:
            return "the encoder's video is not H.264 (send H.264 video and AAC audio)"
    elif message.type == AUDIO and message.payload[0] >> 4 not in AUDIO_CODECS:
        return "the encoder's audio is not AAC or MP3 (send H.264 video and AAC audio)"
    return None


def flv_tag(message: Message) -> bytes | None:
    """The FLV tag of an audio, video or `onMetaData` message (None for others).
    `@setDataFrame` wraps metadata as encoders send it; FLV files hold it bare."""
    payload = message.payload
    if message.type == DATA:
        try:
            values = amf.decode(payload)
        except amf.AmfError:
            return None
        if values[:1] == ["@setDataFrame"]:
            values = values[1:]
        if values[:1] != ["onMetaData"] or len(values) < 2:
            return None
        payload = amf.encode("onMetaData", values[1] if isinstance(values[1], dict) else {})
    elif message.type not in (AUDIO, VIDEO):
        return None
    timestamp = message.timestamp & 0xFFFFFFFF
    header = bytes([message.type]) + len(payload).to_bytes(3, "big") + \
        (timestamp & 0xFFFFFF).to_bytes(3, "big") + bytes([timestamp >> 24]) + b"\x00\x00\x00"
    return header + payload + struct.pack(">I", len(header) + len(payload))
