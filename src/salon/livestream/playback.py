"""HLS playback: the playlist and segments every livestream's `playback_url` points to,
served by salon with no account (`/live/{livestream_id}/index.m3u8`), and the viewer
seconds counted from the segments fetched. In a cluster any node answers: files of an
encoder on another node are fetched from it (`relay.EncoderRelay`) and counted there.

The playlist changes every segment: `Cache-Control: no-cache`. A segment never changes
once listed (it is written under a temporary name and renamed): `immutable`, a year.
Both carry `Access-Control-Allow-Origin: *` so players on any origin can fetch them.
"""

import asyncio
import contextlib
import logging
import re
from collections import defaultdict
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from salon.api.envelope import error
from salon.api.schemas.envelope import errors
from salon.core.livestreams import ACTIVE, HLS_TIME, with_discontinuity_sequence
from salon.store.database import Database
from salon.store.models import LivestreamSession

log = logging.getLogger("salon.livestream")

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
SEGMENT_TYPE = "video/mp2t"
_ID = re.compile(r"^[0-9a-f-]{36}$")
_FILE = re.compile(r"^(index\.m3u8|seg_(?:[0-9a-f]{8}_)?\d{5,9}\.ts)$")
_QUALITY = re.compile(r"^q\d{2,4}$")
#: How often counted viewer seconds are added to the sessions' rows.
FLUSH_SECS = 5.0
#: Beside a taken-over session's playlists: how many encoders took it over (runner).
TAKEOVERS = "takeovers"

router = APIRouter(tags=["livestreams"])


def valid_name(livestream_id: str, file_name: str, quality: str | None = None) -> bool:
    """A livestream id, a quality's folder (`q360`) or none, and a playlist or segment
    name: nothing else is ever served."""
    return bool(_ID.match(livestream_id) and _FILE.match(file_name)
                and (quality is None or _QUALITY.match(quality)))


def write_takeovers(directory: Path, takeovers: int) -> None:
    """Written by the encoder's node before its encoder starts (the folder is new)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / TAKEOVERS).write_text(str(takeovers))


def as_served(body: bytes, livestream_dir: Path) -> bytes:
    """A playlist from this node's disk as viewers get it: with the discontinuity
    sequence of a session encoders took over (`with_discontinuity_sequence`)."""
    try:
        takeovers = int((livestream_dir / TAKEOVERS).read_text())
    except (OSError, ValueError):
        return body
    return with_discontinuity_sequence(body.decode(), takeovers).encode()


class ViewerCounter:
    """Viewer seconds per livestream: each segment fetched is `HLS_TIME` seconds of
    someone watching. Kept in memory and added to the running session's
    `viewer_seconds` every few seconds (one UPDATE per livestream, not per fetch)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.pending: dict[str, float] = defaultdict(float)
        self.served = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False  # ends the loop even if a cancellation is lost

    def segment(self, livestream_id: str) -> None:
        self.pending[livestream_id] += HLS_TIME
        self.served += 1

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_forever(), name="livestream viewers")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def _flush_forever(self) -> None:
        while not self._stopping:
            await asyncio.sleep(FLUSH_SECS)
            try:
                await self.flush()
            except Exception:
                log.exception("counting livestream viewers failed")

    async def flush(self) -> None:
        pending, self.pending = self.pending, defaultdict(float)
        if not pending:
            return
        async with self.database.session() as db:
            for livestream_id, seconds in pending.items():
                # The running session, else the latest (a viewer finishing the end).
                rows = list(await db.scalars(select(LivestreamSession).where(
                    LivestreamSession.livestream_id == livestream_id)
                    .order_by(LivestreamSession.invoked_time.desc()).limit(2)))
                running = [row for row in rows if row.status in ACTIVE]
                target = (running or rows or [None])[0]
                if target is not None:
                    target.viewer_seconds = (target.viewer_seconds or 0.0) + seconds
            await db.commit()


_PLAYLIST_DOC = {"content": {PLAYLIST_TYPE: {"schema": {"type": "string"}},
                             SEGMENT_TYPE: {"schema": {"type": "string", "format": "binary"}}},
                 "description": "The playlist (`index.m3u8`) or a segment (`seg_<session>_NNNNN.ts`)."}


@router.get("/live/{livestream_id}/{file_name}",
            summary="A livestream's HLS playlist or segment (no credentials; its playback_url)",
            response_class=Response, responses={200: _PLAYLIST_DOC, **errors(404)})
async def hls_file(livestream_id: str, file_name: str, request: Request) -> Response:
    return await _serve(request, livestream_id, None, file_name)


@router.get("/live/{livestream_id}/{quality}/{file_name}",
            summary="One viewer quality's HLS playlist or segment (`q360/index.m3u8`, …)",
            response_class=Response, responses={200: _PLAYLIST_DOC, **errors(404)})
async def hls_quality_file(livestream_id: str, quality: str, file_name: str,
                           request: Request) -> Response:
    return await _serve(request, livestream_id, quality, file_name)


async def _serve(request: Request, livestream_id: str, quality: str | None,
                 file_name: str) -> Response:
    if not valid_name(livestream_id, file_name, quality):
        return error(404, "No such livestream file.")
    live = request.app.state.livestreams
    directory: Path = live.hls_root / livestream_id
    if quality is not None:
        directory = directory / quality
    try:
        body = (directory / file_name).read_bytes()  # small, and in the page cache
    except OSError:
        # In a cluster the encoder may be on another node: its answer, as it came.
        elsewhere = await live.relay.fetch(request, livestream_id) if live.relay else None
        if elsewhere is not None:
            return elsewhere
        return error(404, f"Livestream {livestream_id} has no {file_name} (not live, "
                          "or the segment left the playlist).")
    if file_name == "index.m3u8":
        body = as_served(body, live.hls_root / livestream_id)
        return Response(body, media_type=PLAYLIST_TYPE, headers={
            "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*"})
    request.app.state.livestreams.viewers.segment(livestream_id)
    return Response(body, media_type=SEGMENT_TYPE, headers={
        "Cache-Control": "public, max-age=31536000, immutable",
        "Access-Control-Allow-Origin": "*"})
