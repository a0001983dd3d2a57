"""Session transcripts and summaries for the REST API: finding them, saying why one is
not there, and the `meeting` object of their webhooks.

The jobs that make them are `salon.transcription.jobs`; this module only reads rows
(and builds payloads), so routes and jobs share one set of rules and messages.
"""

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from salon.core.errors import NotFound
from salon.store.models import App, Meeting, Session, SessionSummary, SessionTranscript
from salon.webhooks import payloads

#: The statuses of a transcript or a summary.
STATUSES = ("PROCESSING", "READY", "FAILED")


async def session_of(db: AsyncSession, app_id: str, session_id: str) -> Session:
    """The app's session (404 for an unknown one or another app's)."""
    row = await db.get(Session, session_id)
    if row is None or row.app_id != app_id:
        raise NotFound(f"Session {session_id} not found.")
    return row


async def transcript_of(db: AsyncSession, session_id: str) -> SessionTranscript | None:
    return await db.scalar(select(SessionTranscript)
                           .where(SessionTranscript.session_id == session_id))


async def summary_of(db: AsyncSession, session_id: str) -> SessionSummary | None:
    return await db.scalar(select(SessionSummary).where(SessionSummary.session_id == session_id))


#: Per kind: why a live session has none yet, why an ended one has none, the webhook
#: that announces it, and the job's name.
_WHY_NONE = {
    "transcript": ("its transcript is made after it ends (when its meeting has "
                   "transcribe_on_end)",
                   "none was made for it (its meeting did not have transcribe_on_end when "
                   "it ended)", "meeting.transcript", "Transcribing"),
    "summary": ("a summary is made from its transcript after it ends",
                "none was asked for (POST …/sessions/{session_id}/summary, or the "
                "meeting's summarize_on_end)", "meeting.summary", "Summarizing"),
}


def missing(kind: str, session: Session,
            row: SessionTranscript | SessionSummary | None) -> str:
    """Why a session has no `kind` ("transcript" or "summary") to download: the message
    of the 404 (and of POST summary's 409)."""
    live, never, webhook, doing = _WHY_NONE[kind]
    if row is None and session.status == "LIVE":
        return f"Session {session.id} is still live: {live}."
    if row is None:
        return f"Session {session.id} has no {kind}: {never.format(session_id=session.id)}."
    if row.status == "PROCESSING":
        return (f"The {kind} of session {session.id} is still being processed; try again "
                f"shortly (the {webhook} webhook announces it).")
    return f"{doing} session {session.id} failed: {row.error or 'unknown error'}"


def ready_transcript(session: Session, row: SessionTranscript | None) -> SessionTranscript:
    if row is None or row.status != "READY":
        raise NotFound(missing("transcript", session, row))
    return row


def ready_summary(session: Session, row: SessionSummary | None) -> SessionSummary:
    if row is None or row.status != "READY":
        raise NotFound(missing("summary", session, row))
    return row


async def statuses(db: AsyncSession,
                   session_ids: list[str]) -> dict[str, tuple[str | None, str | None]]:
    """Session id → (transcript status, summary status); None where there is none."""
    if not session_ids:
        return {}
    found: dict[str, list[str | None]] = {}
    for session_id, status in await db.execute(
            select(SessionTranscript.session_id, SessionTranscript.status)
            .where(SessionTranscript.session_id.in_(session_ids))):
        found.setdefault(session_id, [None, None])[0] = status
    for session_id, status in await db.execute(
            select(SessionSummary.session_id, SessionSummary.status)
            .where(SessionSummary.session_id.in_(session_ids))):
        found.setdefault(session_id, [None, None])[1] = status
    return {session_id: (pair[0], pair[1]) for session_id, pair in found.items()}


async def webhook_meeting(db: AsyncSession, session_id: str) -> dict[str, Any]:
    """The `meeting` of `meeting.transcript` and `meeting.summary`: id, sessionId, title,
    status, createdAt, startedAt, endedAt, organizedBy (and roomName, as other events)."""
    session = await db.get(Session, session_id)
    assert session is not None
    meeting = await db.get(Meeting, session.meeting_id)
    app = await db.get(App, session.app_id)
    assert meeting is not None and app is not None
    return payloads.meeting_object(
        meeting_id=meeting.id, session_id=session.id, title=meeting.title,
        status=session.status, created_at=meeting.created_at,
        started_at=session.started_at, ended_at=session.ended_at, app_id=app.id,
        app_name=app.name)
