"""Session transcripts and summaries in salon's own storage, behind the signed links of
`transcript_download_url`, `summaryDownloadUrl` and their webhooks
(`/transcription/files/{session_id}/{file_name}?expires=…&signature=…`,
`salon.transcription.files`).

The link needs no credentials; it is refused (403) once expired or if any part of it
was changed, and answers 404 when the file is gone. The files are small text files,
served whole, always as a download (`Content-Disposition: attachment`).
"""

import asyncio
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from salon.api.schemas.envelope import errors
from salon.core.errors import NotFound
from salon.transcription.files import FILES_PATH, content_type

router = APIRouter(tags=["sessions"])
_TEXT = {"schema": {"type": "string"}}


@router.get(FILES_PATH + "/{session_id}/{file_name}",
            summary="A session's transcript or summary file (signed link)",
            response_class=Response, responses={
                200: {"description": "The file: text/csv, application/json, "
                                     "application/x-subrip, text/vtt, text/markdown or "
                                     "text/plain.",
                      "content": {"application/octet-stream": _TEXT}},
                **errors(403, 404)})
async def transcription_file(session_id: str, file_name: str, request: Request,
                             expires: Annotated[int, Query()],
                             signature: Annotated[str, Query(max_length=128)]) -> Response:
    storage = request.app.state.transcript_storage
    key = f"{session_id}/{file_name}"
    storage.verify(key, expires, signature)
    try:
        body = await asyncio.to_thread(storage.path_of(key).read_bytes)
    except (FileNotFoundError, IsADirectoryError, ValueError):
        raise NotFound(f"File {file_name} of session {session_id} is no longer stored.") \
            from None
    download = f"{session_id}-{file_name}"
    return Response(body, media_type=content_type(file_name), headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(download)}",
        "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=3600"})
