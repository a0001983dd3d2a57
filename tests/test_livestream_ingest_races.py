"""The RTMP ingest under races and abuse, on both databases: encoders written against
the protocol (`RawEncoder`: salon's own chunk reader on the client side) stop right
before `publish` and send it at a chosen moment, which FFmpeg's client cannot.

- Several encoders publishing one stream key at the same instant: one gets in.
- An encoder publishing just as the grace window ends its session: that session ends
  IDLE (not ERRORED), and the encoder's stream is a new session.
- Before `publish`, a connection may buffer only a few KB (closed beyond); after it, a
  keyframe of hundreds of KB goes through."""

import asyncio
import contextlib
import io
import os
import socket
import struct
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av
import httpx
import numpy as np
import pytest

from salon.livestream import amf, rtmp
from tests.servers import SalonServer, app_client, free_port, running_on
from tests.test_livestream_api import wait_for

GRACE_SECS = 2
#: Seconds each encoder sends: the remuxer lists a first segment after about three.
MEDIA_SECS = 4.5


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def race_server(request: pytest.FixtureRequest) -> Iterator[SalonServer]:
    env = {"SALON_RTMP_PORT": str(free_port()),
           "SALON_RTMP_RECONNECT_GRACE_SECS": str(GRACE_SECS)}
    with running_on(request.param, env) as salon:
        yield salon


@pytest.fixture
def http(race_server: SalonServer) -> Iterator[httpx.Client]:
    with app_client(race_server) as client:
        yield client


def flv_tags(seconds: float, width: int = 320, height: int = 180, fps: int = 15,
             noise: bool = False) -> list[tuple[int, int, bytes]]:
    """(message type, timestamp ms, payload) of an FLV of H.264 + AAC made with PyAV:
    what an encoder sends as RTMP messages. `noise`: a keyframe's picture is noise
    (hundreds of KB at 640×360)."""
    out = io.BytesIO()
    with av.open(out, "w", format="flv") as container:
        video = container.add_stream("libx264", rate=fps, options={
            "preset": "ultrafast", "x264-params": f"keyint={fps}:scenecut=0"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = container.add_stream("aac", rate=48000, layout="stereo")
        rng = np.random.default_rng(7)
        for index in range(int(seconds * fps)):
            rgb = (rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
                   if noise and index % fps == 0
                   else np.full((height, width, 3), 60, dtype=np.uint8))
            rgb[:, (index * 6) % width:(index * 6) % width + 12] = (0, 220, 255)
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = index, Fraction(1, fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        # a tone, not silence: the remuxer reads its stdin in blocks of 32 KB, and
        # silence and a still picture take seconds to fill one
        for block in range(int(seconds * 48000 / 1024)):
            wave = np.sin(2 * np.pi * 330 * (block * 1024 + np.arange(1024)) / 48000)
            tone = np.vstack([wave, wave]).astype(np.float32) * 0.2
            samples = av.AudioFrame.from_ndarray(tone, format="fltp", layout="stereo")
            samples.sample_rate, samples.pts = 48000, block * 1024
            container.mux(audio.encode(samples))
        container.mux(audio.encode(None))
    data, at, tags = out.getvalue(), 13, []
    while at + 11 <= len(data):
        kind, size = data[at], int.from_bytes(data[at + 1:at + 4], "big")
        stamp = int.from_bytes(data[at + 4:at + 7], "big") | data[at + 7] << 24
        tags.append((kind, stamp, data[at + 11:at + 11 + size]))
        at += 11 + size + 4
    return sorted(tags, key=lambda tag: tag[1])


class RawEncoder:
    """An RTMP publisher, step by step: `connect` (handshake, connect, createStream),
    then `publish` when the test wants, then `send` media."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.conn = rtmp.RtmpConnection(reader, writer)  # reads the server's few answers

    @classmethod
    async def connect(cls, ingest_server: str) -> "RawEncoder":
        url = urlsplit(ingest_server)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        writer.write(b"\x03" + os.urandom(rtmp.HANDSHAKE_SIZE))  # C0 C1
        s0_s1 = await reader.readexactly(1 + rtmp.HANDSHAKE_SIZE)
        await reader.readexactly(rtmp.HANDSHAKE_SIZE)  # S2
        writer.write(s0_s1[1:])  # C2: S1 echoed
        self = cls(reader, writer)
        await self.conn.send(2, rtmp.SET_CHUNK_SIZE, 0, struct.pack(">I", rtmp.OUT_CHUNK_SIZE))
        await self.conn.command("connect", 1, {"app": "live", "type": "nonprivate",
                                               "tcUrl": ingest_server})
        await self._answer(1)
        await self.conn.command("createStream", 2, None)
        await self._answer(2)
        return self

    async def _answer(self, transaction: float) -> list[Any]:
        while True:
            message = await asyncio.wait_for(self.conn.read_message(), 10)
            if message.type == rtmp.COMMAND:
                values = amf.decode(message.payload)
                if values[:1] in (["_result"], ["_error"]) and values[1] == transaction:
                    return values

    async def publish(self, key: str) -> str:
        """Publish with `key`; the server's answer (`NetStream.Publish.Start`, or
        `…BadName` or a closed connection for a refusal)."""
        await self.conn.command("publish", 3, None, key, "live", stream_id=1)
        try:
            while True:
                message = await asyncio.wait_for(self.conn.read_message(), 15)
                values = amf.decode(message.payload) if message.type == rtmp.COMMAND else []
                if values[:1] == ["onStatus"]:
                    return str(values[3]["code"])
        except (asyncio.IncompleteReadError, ConnectionError):
            return "closed"

    async def send(self, tags: list[tuple[int, int, bytes]]) -> None:
        """The media in real time, as an encoder sends it."""
        began = asyncio.get_running_loop().time()
        for kind, stamp, payload in tags:
            delay = began + stamp / 1000 - asyncio.get_running_loop().time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.conn.send(6 if kind == rtmp.VIDEO else 4, kind, 1, payload, stamp)

    async def close(self) -> None:
        await self.conn.close()


def _sessions(http: httpx.Client, livestream_id: str) -> dict[str, Any]:
    return http.get(f"/livestreams/{livestream_id}", params={"per_page": 50}).json()["data"]


def _over(http: httpx.Client, livestream_id: str) -> dict[str, Any] | None:
    """The livestream once its newest session has ended (None before)."""
    shown = _sessions(http, livestream_id)
    session = shown["session"]
    return shown if session and session["stopped_time"] and \
        shown["livestream"]["status"] in ("IDLE", "ERRORED") else None


async def test_one_of_two_encoders_with_one_key_gets_in(http: httpx.Client) -> None:
    made = http.post("/livestreams", json={"name": "Twice"}).json()["data"]
    encoders = [await RawEncoder.connect(made["ingest_server"]) for _ in range(4)]
    try:
        codes = await asyncio.gather(*(encoder.publish(made["stream_key"])
                                       for encoder in encoders))
    finally:
        for encoder in encoders:
            await encoder.close()
    assert sorted(codes) == ["NetStream.Publish.BadName"] * 3 + ["NetStream.Publish.Start"]
    shown = await asyncio.to_thread(wait_for, lambda: _over(http, made["id"]), 20, "the end")
    assert shown["paging"]["total_count"] == 1  # one session, the accepted encoder's


async def test_a_reconnection_as_the_grace_window_ends(race_server: SalonServer,
                                                       http: httpx.Client) -> None:
    """The encoder drops and publishes again just as its grace window runs out: the
    session it left ends IDLE (the window is over), its playlist ended, and the encoder
    is a new session, LIVE and then IDLE as any."""
    made = http.post("/livestreams", json={"name": "Late"}).json()["data"]
    tags = await asyncio.to_thread(flv_tags, MEDIA_SECS)
    playlist = Path(race_server.data_dir) / "livestreams" / made["id"] / "index.m3u8"
    first = await RawEncoder.connect(made["ingest_server"])
    assert await first.publish(made["stream_key"]) == "NetStream.Publish.Start"
    await first.send(tags)
    await first.close()
    late = await RawEncoder.connect(made["ingest_server"])  # all but publish, in time
    try:
        # The grace window is over when the remuxer ends the playlist; publish then,
        # while the session is being ended.
        deadline = time.monotonic() + GRACE_SECS + 10
        while "#EXT-X-ENDLIST" not in (playlist.read_text() if playlist.exists() else ""):
            assert time.monotonic() < deadline, "the playlist never ended"
            await asyncio.sleep(0.002)
        assert await late.publish(made["stream_key"]) == "NetStream.Publish.Start"
        with contextlib.suppress(ConnectionError):  # what is wrong is asserted below
            await late.send(tags)
    finally:
        await late.close()

    def settled() -> dict[str, Any] | None:  # both sessions over, or one ERRORED
        shown = _over(http, made["id"])
        return shown if shown and (shown["paging"]["total_count"] == 2 or
                                   shown["livestream"]["status"] == "ERRORED") else None

    shown = await asyncio.to_thread(wait_for, settled, GRACE_SECS + 20, "the sessions' end")
    sessions = [http.get(f"/livestreams/sessions/{session_id}").json()["data"]
                for session_id in _session_ids(http, made["id"])]
    assert [(s["err_message"], s["stopped_time"] is not None, s["started_time"] is not None)
            for s in sessions] == [(None, True, True)] * 2, sessions  # both went LIVE
    assert shown["livestream"]["status"] == "IDLE"


def _session_ids(http: httpx.Client, livestream_id: str) -> list[str]:
    """Every session of the livestream, oldest first."""
    shown = http.get(f"/livestreams/{livestream_id}", params={"per_page": 1}).json()["data"]
    return [http.get(f"/livestreams/{livestream_id}", params={"per_page": 1, "page_no": page})
            .json()["data"]["session"]["id"]
            for page in range(shown["paging"]["total_count"], 0, -1)]


def _handshake(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"\x03" + bytes(rtmp.HANDSHAKE_SIZE))
    got = b""
    while len(got) < 1 + 2 * rtmp.HANDSHAKE_SIZE:
        got += sock.recv(8192)
    sock.sendall(got[1:1 + rtmp.HANDSHAKE_SIZE])
    return sock


def _closed_within(sock: socket.socket, payload: bytes, seconds: float) -> bool:
    """Send `payload` (as far as the server takes it); whether it closes the connection
    within `seconds`."""
    sock.settimeout(seconds)
    try:
        sock.sendall(payload)
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def _chunk(csid: int, length: int, data: bytes) -> bytes:
    """A type-0 chunk of a command message declared `length` bytes long."""
    return bytes([csid]) + b"\x00\x00\x00" + length.to_bytes(3, "big") + \
        bytes([rtmp.COMMAND]) + b"\x00\x00\x00\x00" + data


def _chunk_size(size: int) -> bytes:
    """Set Chunk Size, on the control chunk stream."""
    return bytes([2]) + b"\x00\x00\x00" + (4).to_bytes(3, "big") + \
        bytes([rtmp.SET_CHUNK_SIZE]) + b"\x00\x00\x00\x00" + struct.pack(">I", size)


@pytest.mark.parametrize("payload", [
    # one message declared 1 MB, 100 KB of it sent: not a command
    _chunk_size(1 << 20) + _chunk(3, 1 << 20, bytes(100_000)),
    # ten messages under 64 KB each, unfinished: 100 KB together
    _chunk_size(10_000) + b"".join(_chunk(csid, 60_000, bytes(10_000))
                                   for csid in range(3, 13)),
    # small messages (one chunk of 128 bytes sent) on sixty chunk streams
    b"".join(_chunk(csid, 200, bytes(128)) for csid in range(3, 63)),
], ids=["one-large-message", "many-unfinished-messages", "many-chunk-streams"])
def test_before_publish_a_connection_buffers_little(http: httpx.Client,
                                                    payload: bytes) -> None:
    port = urlsplit(http.post("/livestreams", json={}).json()["data"]["ingest_server"]).port
    assert port is not None
    with _handshake(port) as sock:
        assert _closed_within(sock, payload, 5), "the server kept buffering"


async def test_after_publish_large_keyframes_go_through(http: httpx.Client) -> None:
    made = http.post("/livestreams", json={"name": "Noisy"}).json()["data"]
    tags = await asyncio.to_thread(flv_tags, MEDIA_SECS, 640, 360, 15, True)
    assert max(len(payload) for _, _, payload in tags) > 100_000  # > 64 KB
    encoder = await RawEncoder.connect(made["ingest_server"])
    try:
        assert await encoder.publish(made["stream_key"]) == "NetStream.Publish.Start"
        await encoder.send(tags)
    finally:
        await encoder.close()
    shown = await asyncio.to_thread(wait_for, lambda: _over(http, made["id"]),
                                    GRACE_SECS + 20, "the end")
    assert shown["livestream"]["status"] == "IDLE", shown
    assert shown["session"]["started_time"] is not None  # it went LIVE
