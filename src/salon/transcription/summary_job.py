"""The summary job: a session's READY transcript → its summary file → READY and the
`meeting.summary` webhook. Run by `salon.transcription.jobs.PostMeetingJobs` as an
asyncio task: the extractive engine works in a thread and the LLM engine is an HTTP
call, so neither holds up the event loop.
"""

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from salon.ai.summary import summarize_with_fallback
from salon.core.clock import utcnow
from salon.core.ids import new_uuid
from salon.recording.storage import LocalStorage
from salon.services import transcripts
from salon.store.database import Database
from salon.store.models import Meeting, Session, SessionSummary
from salon.transcription import files
from salon.transcription.summaries import SummaryOptions, utterances_from_json
from salon.webhooks import outbox, payloads

if TYPE_CHECKING:
    from salon.transcription.jobs import JobSettings

log = logging.getLogger("salon.transcription")


async def queue(db: AsyncSession, session: Session, meeting: Meeting,
                row: SessionSummary | None, node_id: str) -> SessionSummary:
    """`prepare`, and commit."""
    row = prepare(db, session, meeting, row, node_id)
    try:
        await db.commit()
    except IntegrityError:  # a concurrent POST made it first
        await db.rollback()
        existing = await transcripts.summary_of(db, session.id)
        assert existing is not None
        return existing
    return row


def prepare(db: AsyncSession, session: Session, meeting: Meeting,
            row: SessionSummary | None, node_id: str) -> SessionSummary:
    """Mark the session's summary PROCESSING (made, or reset) with the meeting's
    `ai_config.summarization` as it is now, claimed by the node `node_id` (which runs
    `make`, `salon.cluster.claims`); the caller commits."""
    options = SummaryOptions.of_meeting(meeting.ai_config)
    now = utcnow()
    if row is None:
        row = SessionSummary(id=new_uuid(), app_id=session.app_id, meeting_id=meeting.id,
                             session_id=session.id, created_at=now, file=None)
        db.add(row)
    row.status, row.error = "PROCESSING", None
    row.text_format, row.extension = options.text_format, options.extension
    row.options, row.updated_at, row.completed_at = options.as_json(), now, None
    row.claimed_by, row.claimed_at = node_id, now
    return row


async def make(database: Database, storage: LocalStorage, settings: "JobSettings",
               session_id: str) -> int:
    """Write the summary of a PROCESSING row, store it, and mark it READY with its
    `meeting.summary` queued in the same commit. Returns how many deliveries were
    queued (0 also when there was nothing to do)."""
    async with database.session() as db:
        row = await transcripts.summary_of(db, session_id)
        transcript = await transcripts.transcript_of(db, session_id)
        if row is None or row.status != "PROCESSING":
            return 0
    options = SummaryOptions(**{k: row.options[k] for k in
                                ("summary_type", "text_format", "word_limit")})
    old_file = row.file
    if transcript is None or transcript.status != "READY" or not transcript.files:
        # made again meanwhile, or failed: a new summary follows it if asked for
        await fail(database, session_id, "the transcript is no longer READY")
        return 0
    source = storage.path_of(files.from_json(transcript.files["json"]).key)
    said = utterances_from_json(await asyncio.to_thread(source.read_text, "utf-8"))
    text = await summarize_with_fallback(
        said, summary_type=options.summary_type,  # type: ignore[arg-type]
        text_format=options.text_format,  # type: ignore[arg-type]
        word_limit=options.word_limit, engine=settings.summarizer)
    out = settings.out_dir(session_id) / f"summary.{options.extension}"
    await asyncio.to_thread(_write, out, text)
    key = files.summary_key(session_id, options.extension)
    stored = await storage.put(out, key, files.CONTENT_TYPES[options.extension])
    with contextlib.suppress(OSError):  # moved into storage: the work folder is empty
        out.parent.rmdir()
    if old_file and old_file.get("key") != key:  # markdown before, plain text now
        await storage.delete(files.from_json(old_file))
    async with database.session() as db:
        row = await transcripts.summary_of(db, session_id)
        if row is None:
            return 0
        row.status, row.error, row.file = "READY", None, files.to_json(stored)
        row.updated_at = row.completed_at = utcnow()
        url, expiry = await storage.download_url(stored, settings.link_ttl)
        queued = await outbox.enqueue(db, row.app_id, payloads.meeting_summary(
            await transcripts.webhook_meeting(db, session_id),
            summary_download_url=url, summary_download_url_expiry=expiry))
        await db.commit()
    return queued


async def fail(database: Database, session_id: str, reason: str) -> None:
    """A PROCESSING summary ends FAILED with `reason` (no webhook)."""
    log.warning("summary of session %s FAILED: %s", session_id, reason)
    with contextlib.suppress(Exception):  # the row may be gone with its session
        async with database.session() as db:
            row = await transcripts.summary_of(db, session_id)
            if row is not None and row.status == "PROCESSING":
                row.status, row.error = "FAILED", reason[:2000]
                row.updated_at = row.completed_at = utcnow()
                await db.commit()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
