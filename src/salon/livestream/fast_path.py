"""HLS for thousands of viewers: `/live/…` answered in front of the whole application.

A thousand viewers make two thousand requests a second (a playlist and a segment each),
all for the same few files. Through FastAPI each one passes three middlewares, a linear
match over every route and the response machinery; here it is one path split and a
dictionary lookup: segments never change once listed, so they are kept in memory (the
most recently fetched, up to `SEGMENT_BYTES_KEPT`; a stat tells the file is still the
one kept, as a livestream started again writes files of the same names), and a playlist
is read again only when its file changed.

The FastAPI route in `salon.livestream.playback` stays for the OpenAPI document (and
answers the same, should this layer be left out). In a cluster what is not on this
node's disk is fetched from the encoder's node here too (`relay.EncoderRelay`, with
what it keeps), so a relaying node's viewers never reach FastAPI either.
"""

import os
from collections import OrderedDict
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from salon.api.json_bodies import NUL_IN_URL, has_nul
from salon.livestream.playback import PLAYLIST_TYPE, SEGMENT_TYPE, as_served, valid_name
from salon.observability.requests import HEADER, request_id_of

PREFIX = "/live/"
#: Memory for segments: a 720p 1 s segment is about 350 KB, and viewers fetch the newest
#: few of each quality of each livestream, so this holds every one being watched.
SEGMENT_BYTES_KEPT = 64 * 1024 * 1024
_COMMON = [(b"access-control-allow-origin", b"*"), (b"x-content-type-options", b"nosniff")]
_PLAYLIST_HEADERS = [(b"content-type", PLAYLIST_TYPE.encode()),
                     (b"cache-control", b"no-cache"), *_COMMON]
_SEGMENT_HEADERS = [(b"content-type", SEGMENT_TYPE.encode()),
                    (b"cache-control", b"public, max-age=31536000, immutable"), *_COMMON]


class HlsFiles:
    """The bytes of playlists (re-read when their mtime changes) and segments (kept while
    their file is the one read: a livestream started again numbers its segments from 0
    again, in files of the same names)."""

    def __init__(self) -> None:
        self.playlists: dict[Path, tuple[int, bytes]] = {}
        self.segments: OrderedDict[Path, tuple[tuple[int, int], bytes]] = OrderedDict()
        self.kept = 0  # bytes in `segments`

    def playlist(self, path: Path, livestream_dir: Path) -> bytes | None:
        try:
            changed = os.stat(path).st_mtime_ns
        except OSError:
            self.playlists.pop(path, None)
            return None
        known = self.playlists.get(path)
        if known is not None and known[0] == changed:
            return known[1]
        try:
            body = as_served(path.read_bytes(), livestream_dir)
        except OSError:
            return None
        self.playlists[path] = (changed, body)
        return body

    def segment(self, path: Path) -> bytes | None:
        try:
            stat = os.stat(path)
        except OSError:
            self._forget(path)
            return None
        file = (stat.st_ino, stat.st_mtime_ns)
        known = self.segments.get(path)
        if known is not None and known[0] == file:
            self.segments.move_to_end(path)
            return known[1]
        self._forget(path)
        try:
            body = path.read_bytes()
        except OSError:
            return None
        self.segments[path] = (file, body)
        self.kept += len(body)
        while self.kept > SEGMENT_BYTES_KEPT and len(self.segments) > 1:
            _, (_, dropped) = self.segments.popitem(last=False)
            self.kept -= len(dropped)
        return body

    def _forget(self, path: Path) -> None:
        known = self.segments.pop(path, None)
        if known is not None:
            self.kept -= len(known[1])


class HlsFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.files = HlsFiles()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(PREFIX) \
                or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        send = _with_request_id(send, request_id_of(scope))  # as every other answer
        if has_nul(scope):
            await _error(send, 400, NUL_IN_URL)
            return
        parts = path[len(PREFIX):].split("/")
        live = scope["app"].state.livestreams
        quality = parts[1] if len(parts) == 3 else None
        if len(parts) not in (2, 3) or not valid_name(parts[0], parts[-1], quality):
            await _error(send, 404, "No such livestream file.")
            return
        livestream_id, name = parts[0], parts[-1]
        file = live.hls_root.joinpath(*parts)
        if name.endswith(".m3u8"):
            body = self.files.playlist(file, live.hls_root / livestream_id)
            headers = _PLAYLIST_HEADERS
        else:
            body, headers = self.files.segment(file), _SEGMENT_HEADERS
        if body is None and live.relay is not None and scope["method"] == "GET":
            # not here: in a cluster, from its encoder's node (or what this one kept)
            elsewhere = await live.relay.fetch(Request(scope), livestream_id)
            if elsewhere is not None:
                await elsewhere(scope, receive, send)
                return
        if body is None:
            await _error(send, 404, f"Livestream {livestream_id} has no {name} (not live, "
                                    "or the segment left the playlist).")
            return
        if headers is _SEGMENT_HEADERS:
            live.viewers.segment(livestream_id)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body",
                    "body": b"" if scope["method"] == "HEAD" else body})


def _with_request_id(send: Send, request_id: str) -> Send:
    """`send`, with the answer's `X-Request-Id` header (observability.requests's rule)."""
    header = (HEADER, request_id.encode())

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), header]}
        await send(message)

    return sending


async def _error(send: Send, status: int, message: str) -> None:
    body = orjson.dumps({"success": False, "error": {"code": status, "message": message}})
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": body})
