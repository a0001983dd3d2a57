"""Recording files in salon's own storage, behind the signed links that RealtimeKit's
`download_url` and `audio_download_url` carry
(`/recordings/files/{recording_id}/{file_name}?expires=…&signature=…`,
`salon.recording.storage.LocalStorage`).

The link needs no credentials; it is refused (403) once expired or if any part of it
was changed, and answers 404 when the file is gone (deleted with its recording). Ranges
(`Range: bytes=…` → 206) are served because browsers seek in MP4s that way.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Annotated, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse

from salon.api import byte_ranges
from salon.api.envelope import error
from salon.api.schemas.envelope import errors
from salon.core.errors import NotFound
from salon.recording.storage.local import FILES_PATH, INLINE, content_type_of

router = APIRouter(tags=["recordings"])
CHUNK = 256 * 1024
_BYTES = {"schema": {"type": "string", "format": "binary"}}


@router.get(FILES_PATH + "/{recording_id}/{file_name}",
            summary="A recording file (signed link from a recording's download_url)",
            response_class=StreamingResponse, responses={
                200: {"description": "The whole file, with its own Content-Type.",
                      "content": {"application/octet-stream": _BYTES}},
                206: {"description": "The part of the file the Range header asked for.",
                      "content": {"application/octet-stream": _BYTES}},
                **errors(403, 404, 416)})
async def recording_file(recording_id: str, file_name: str, request: Request,
                         expires: Annotated[int, Query()],
                         signature: Annotated[str, Query(max_length=128)],
                         byte_range: Annotated[str | None, Header(alias="range")] = None,
                         ) -> Response:
    storage = request.app.state.recording_storage
    key = f"{recording_id}/{file_name}"
    storage.verify(key, expires, signature)
    try:
        handle = await asyncio.to_thread(open, storage.path_of(key), "rb")
    except (FileNotFoundError, IsADirectoryError, ValueError):
        raise NotFound(f"Recording file {file_name} is no longer stored.") from None
    size = os.fstat(handle.fileno()).st_size
    try:
        wanted = byte_ranges.requested(byte_range, size)
    except byte_ranges.Unsatisfiable:
        handle.close()
        return error(416, f"The file has {size} bytes; that range is past its end.",
                     {"Content-Range": f"bytes */{size}"})
    kind = content_type_of(file_name)
    disposition = "inline" if kind.startswith(INLINE) else "attachment"
    headers = {"Accept-Ranges": "bytes",
               "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(file_name)}",
               "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"}
    first, last = wanted or (0, size - 1)
    headers["Content-Length"] = str(max(last - first + 1, 0))
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(_read(handle, first, last - first + 1), media_type=kind,
                             status_code=206 if wanted else 200, headers=headers)


async def _read(handle: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    """`length` bytes from `start`, a chunk at a time off the event loop."""
    try:
        await asyncio.to_thread(handle.seek, start)
        while length > 0 and (chunk := await asyncio.to_thread(handle.read,
                                                               min(CHUNK, length))):
            length -= len(chunk)
            yield chunk
    finally:
        handle.close()
