"""Chat files over HTTP: upload (then send a chat `image`/`file` message with its id) and
download. Both authenticate with the participant token (`Authorization: Bearer …`), the
same token that joins the realtime session; a file is served only to participants of
the meeting it was uploaded to.

Upload: `POST /realtime/v1/files?name=<file name>` with the file as the raw body and its
`Content-Type`. Answers 201 with the file's id and link; 401 without a valid token, 403
without a joined peer or the permission to send files, 413 when larger than
`SALON_CHAT_MAX_FILE_BYTES`, 415 for a type outside the allow-list (or an image whose
bytes are not that image), 429 past 20 uploads a minute.
"""

import time
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from salon.api.envelope import Envelope, ok
from salon.api.schemas import live as shapes
from salon.api.schemas.envelope import Success, errors
from salon.core.clock import isoformat
from salon.core.errors import (
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    TooManyRequests,
    Unauthorized,
    UnsupportedType,
)
from salon.core.ratelimit import Limit
from salon.core.room import chat as rules
from salon.live import operator
from salon.services import chat_files, participants
from salon.services.chat import FILES_PATH, file_link
from salon.store.models import ChatFile

router = APIRouter(prefix=FILES_PATH, tags=["chat"])

UPLOAD_LIMIT = Limit("chat.upload", 20, 60)


async def _admitted(request: Request) -> participants.Admitted:
    authorization = request.headers.get("authorization")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send the participant token: 'Authorization: Bearer <token>'.")
    state = request.app.state
    async with state.database.session() as db:
        return await participants.admit(db, state.signer, token.strip())


def _view(row: ChatFile, base: str) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "size": row.size,
            "content_type": row.content_type, "link": file_link(base, row.id),
            "created_at": isoformat(row.created_at)}


@router.post("", status_code=201, summary="Upload a chat file or image (participant token)",
             response_model=Success[shapes.ChatFile], responses=errors(401, 403, 413, 415, 429),
             openapi_extra={"requestBody": {"required": True, "content": {
                 kind: {"schema": {"type": "string", "format": "binary"}}
                 for kind in sorted(rules.FILE_CONTENT_TYPES)}}})
async def upload(request: Request,
                 name: Annotated[str, Query(min_length=1, max_length=1000)]) -> Envelope:
    state = request.app.state
    admitted = await _admitted(request)
    participant_id = admitted.participant.id
    uploads = operator.upload_bucket(state.rooms, admitted.meeting.id, participant_id,
                                     UPLOAD_LIMIT)
    declared = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if declared not in rules.FILE_CONTENT_TYPES:
        raise UnsupportedType(f"Files of type '{declared or 'none given'}' are not accepted. "
                              "Allowed: " + ", ".join(sorted(rules.FILE_CONTENT_TYPES)) + ".")
    limit = state.settings.chat_max_file_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise PayloadTooLarge(f"The file is {int(length)} bytes; at most {limit} are allowed.")
    if not uploads.allow(time.monotonic()):
        raise TooManyRequests(f"At most {UPLOAD_LIMIT.rate:g} uploads per "
                              f"{UPLOAD_LIMIT.per:g} s.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise PayloadTooLarge(f"The file is larger than {limit} bytes, the most allowed.")
    if not data:
        raise InvalidRequest("The file is empty: send its bytes as the request body.")
    if declared in rules.IMAGE_CONTENT_TYPES and rules.sniff_image(bytes(data[:16])) != declared:
        raise UnsupportedType(f"The body is not a {declared} image.")
    clean = chat_files.clean_name(name)
    async with state.database.session() as db:
        row = await chat_files.save(db, state.files, app_id=admitted.meeting.app_id,
                                    meeting_id=admitted.meeting.id,
                                    participant_id=participant_id, name=clean,
                                    content_type=declared, data=bytes(data))
    return ok(_view(row, state.settings.public_base), status_code=201)


@router.get("/{file_id}", summary="Download a chat file (participant token of its meeting)",
            response_class=StreamingResponse, responses={
                200: {"description": "The file's bytes, with its own Content-Type.",
                      "content": {"application/octet-stream": {
                          "schema": {"type": "string", "format": "binary"}}}},
                **errors(401, 404)})
async def download(file_id: str, request: Request) -> StreamingResponse:
    state = request.app.state
    admitted = await _admitted(request)
    async with state.database.session() as db:
        row = await chat_files.get(db, admitted.meeting.id, file_id)
    try:
        stored = await state.files.open(row.storage_key)
    except FileNotFoundError:
        raise NotFound(f"File {file_id} is no longer stored.") from None
    disposition = "inline" if row.content_type in rules.IMAGE_CONTENT_TYPES else "attachment"
    headers = {
        "Content-Length": str(stored.size),
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(row.name)}",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, max-age=3600",
    }
    return StreamingResponse(stored.chunks, media_type=row.content_type, headers=headers)
