"""S6: a session's chat as a CSV download, behind a signed link that expires.

`GET …/sessions/{session_id}/chat` (API token) answers with the link; the link itself
(`/chat-exports/{session_id}.csv?expires=…&signature=…`) needs no credentials and is
refused (403) once expired or if any part of it was changed.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from salon.api.deps import CurrentApp, Db
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import Success, errors
from salon.api.schemas.sessions import ChatDownload
from salon.services import chat_export

router = APIRouter(prefix="/{app_id}", tags=["sessions"])
downloads = APIRouter(tags=["sessions"])


@router.get("/sessions/{session_id}/chat", summary="Link to download a session's chat (CSV)",
            response_model=Success[ChatDownload])
async def session_chat(session_id: str, request: Request, app: CurrentApp, db: Db) -> Envelope:
    return ok(await chat_export.session_link(db, request.app.state.export_links, app.id,
                                             session_id))


@downloads.get(chat_export.EXPORT_PATH + "/{session_id}.csv",
               summary="A session's chat as CSV (signed link from S6 or meeting.chatSynced)",
               response_class=Response, responses={
                   200: {"description": "The chat, one message a row.",
                         "content": {"text/csv": {"schema": {"type": "string"}}}},
                   **errors(403, 404)})
async def chat_csv(session_id: str, request: Request, expires: Annotated[int, Query()],
                   signature: Annotated[str, Query(max_length=128)]) -> Response:
    state = request.app.state
    state.export_links.verify(session_id, expires, signature)
    async with state.database.session() as db:
        text = await chat_export.csv_text(db, session_id, state.settings.public_base)
    return Response(text, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="chat-{session_id}.csv"',
        "Cache-Control": "private, no-store"})
