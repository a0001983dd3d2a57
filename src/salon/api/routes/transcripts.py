"""A session's post-meeting transcript and summary (RealtimeKit's
`sessions.get_session_transcripts`, `get_session_summary` and
`generate_summary_of_transcripts`), with RealtimeKit's mixed key case exactly.

The answers carry signed, expiring links to salon's own download route
(`salon.api.routes.transcription_files`); each GET signs a fresh one. The jobs that make
the files are `salon.transcription.jobs` (`request.app.state.post_meeting`).
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from salon.api import wire
from salon.api.deps import CurrentApp, Db, NoBody
from salon.api.envelope import Envelope, ok
from salon.api.schemas.envelope import Success, errors
from salon.api.schemas.sessions import SummaryJob, SummaryLink, TranscriptLink
from salon.services import transcripts
from salon.transcription import files

router = APIRouter(prefix="/{app_id}", tags=["sessions"])

Format = Literal["CSV", "JSON", "SRT", "VTT"]


@router.get("/sessions/{session_id}/transcript",
            summary="A signed link to a session's transcript",
            description="404 while the transcript is PROCESSING, after it FAILED, or when "
                        "none was made; the message says which.",
            response_model=Success[TranscriptLink])
async def get_transcript(session_id: str, app: CurrentApp, db: Db, request: Request,
                         format: Annotated[Format, Query()] = "CSV") -> Envelope:  # noqa: A002
    session = await transcripts.session_of(db, app.id, session_id)
    row = transcripts.ready_transcript(session, await transcripts.transcript_of(db, session_id))
    jobs = request.app.state.post_meeting
    assert row.files is not None
    stored = files.from_json(row.files[format.lower()])
    url, expiry = await jobs.storage.download_url(stored, jobs.settings.link_ttl)
    return ok({"sessionId": session_id, "transcript_download_url": url,
               "transcript_download_url_expiry": wire.isoformat(expiry)})


@router.get("/sessions/{session_id}/summary", summary="A signed link to a session's summary",
            description="404 while the summary is PROCESSING, after it FAILED, or when "
                        "none was asked for; the message says which.",
            response_model=Success[SummaryLink])
async def get_summary(session_id: str, app: CurrentApp, db: Db, request: Request) -> Envelope:
    session = await transcripts.session_of(db, app.id, session_id)
    row = transcripts.ready_summary(session, await transcripts.summary_of(db, session_id))
    jobs = request.app.state.post_meeting
    assert row.file is not None
    url, expiry = await jobs.storage.download_url(files.from_json(row.file),
                                                  jobs.settings.link_ttl)
    return ok({"sessionId": session_id, "summaryDownloadUrl": url,
               "summaryDownloadUrlExpiry": wire.isoformat(expiry)})


@router.post("/sessions/{session_id}/summary",
             summary="Summarize a session's transcript (again)",
             description="Queues the summary with the meeting's ai_config.summarization; "
                         "409 unless the session's transcript is READY.",
             response_model=Success[SummaryJob], responses=errors(409))
async def generate_summary(session_id: str, app: CurrentApp, request: Request,
                           _: NoBody) -> Envelope:
    row = await request.app.state.post_meeting.summarize(app.id, session_id)
    return ok({"session_id": row.session_id, "status": row.status})
