"""Post-meeting jobs: a session's transcript from its captured audio, then its summary.

The live transcriber (`salon.transcription.listener` and friends) captures each
participant's audio while the session runs; when the session is over, whoever knows the
capture is complete calls

    await app.state.post_meeting.transcribe(app_id, meeting_id, session_id, capture_dir)

which returns at once. The job:

1. marks the session's transcript PROCESSING (one row per session, `SessionTranscript`);
2. runs Whisper in a **worker process** (spawned `ProcessPoolExecutor`, at most
   `SALON_TRANSCRIPTION_WORKERS` at once; never on the server's event loop, which
   carries media and chat);
3. stores the four files (CSV, JSON, SRT, VTT: `salon.transcription.files`), marks the
   transcript READY and queues `meeting.transcript` (the CSV link) in the same
   transaction (the webhook outbox), or marks it FAILED with the reason;
4. if the meeting has `summarize_on_end`, summarizes it (`SessionSummary`, then
   `meeting.summary`), as `POST …/sessions/{id}/summary` does.

A job is a row, so a crash loses nothing: `start()` re-runs every job left PROCESSING
(the capture directory stays until its transcript is READY), and a capture that no
transcriber reported (the server died during the session, or just after it) is
transcribed once its session has been over for a while (`unreported`). Each
PROCESSING row is claimed by the node that runs it (`salon.cluster.claims`); in a cluster every node
also takes over, every few heartbeats, the jobs of nodes that are gone — a transcript
only if its capture directory is there to read (a shared data directory), else it waits
for a node that can read it.
"""

import asyncio
import contextlib
import logging
import multiprocessing
import shutil
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from salon.ai.summary import Summarizer, summarizer_from_settings
from salon.cluster.claims import JobClaims
from salon.cluster.registry import new_node_id
from salon.core.clock import utcnow
from salon.core.errors import Conflict, NotFound
from salon.core.ids import new_uuid
from salon.observability.logs import configure_from_env
from salon.recording.storage import LocalStorage
from salon.services import transcripts
from salon.settings import Settings
from salon.store.database import Database
from salon.store.models import Meeting, Session, SessionSummary, SessionTranscript
from salon.transcription import files, summary_job
from salon.transcription.capture import is_captured_file
from salon.transcription.priority import yield_cpu_to_the_server
from salon.transcription.unreported import UnreportedCaptures, transcribe_forever
from salon.transcription.worker import (
    TranscriptionFailed,
    WorkRequest,
    WorkResult,
    transcribe_capture,
)
from salon.webhooks import outbox, payloads

log = logging.getLogger("salon.transcription")
#: Runs of one job when its worker process dies (the pool breaks for every job in it).
POOL_ATTEMPTS = 2

#: What `summarize` answers with (the row, as committed).
SummaryRow = SessionSummary


@dataclass(frozen=True)
class JobSettings:
    """What the jobs need of the server's settings (`from_settings`)."""

    data_dir: Path
    #: Transcriptions that run at once, one worker process each.
    workers: int = 1
    #: A CTranslate2 Whisper model directory; None: the bundled tiny.en.
    model_path: Path | None = None
    cpu_threads: int = 2
    #: How long the links in webhooks (and REST answers) work.
    link_ttl_secs: int = 7 * 24 * 3600
    #: Keep the captured audio after the transcript is READY (else the capture's own files
    #: (`capture.is_captured_file`) are deleted, and the directory if nothing else is left).
    keep_audio: bool = False
    #: The operator's LLM engine (`SALON_SUMMARY_LLM_*`); None: extractive only.
    summarizer: Summarizer | None = None
    #: A capture no transcriber reported is transcribed once its session has been over
    #: this long (a transcriber still finishing reports within 45 s of the end); the
    #: capture directories are looked at this often.
    unreported_after_secs: float = 120.0
    unreported_sweep_secs: float = 60.0
    #: ...of a session that ended at most this long ago.
    unreported_within_days: float = 7.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "JobSettings":
        return cls(data_dir=settings.data_dir, workers=settings.transcription_workers,
                   model_path=settings.transcription_model,
                   cpu_threads=settings.transcription_threads,
                   link_ttl_secs=settings.transcript_link_ttl_secs,
                   keep_audio=settings.transcription_keep_audio,
                   summarizer=summarizer_from_settings(settings))

    @property
    def link_ttl(self) -> timedelta:
        return timedelta(seconds=self.link_ttl_secs)

    def out_dir(self, session_id: str) -> Path:
        """Where a worker writes a session's files before they go into storage."""
        return self.data_dir / "transcription" / "out" / session_id


class PostMeetingJobs:
    """Transcript and summary jobs of every session, run off the event loop."""

    def __init__(self, database: Database, settings: JobSettings, local_storage: LocalStorage,
                 on_commit: Callable[[], None] | None = None,
                 claims: JobClaims | None = None) -> None:
        self.database = database
        #: Which node this is, and which others are alive (one node: a fresh id).
        self.claims = claims or JobClaims(new_node_id())
        self._sweeper: asyncio.Task[None] | None = None
        self._adopter: asyncio.Task[None] | None = None
        self.settings = settings
        self.unreported = UnreportedCaptures(
            database, settings.data_dir, timedelta(seconds=settings.unreported_after_secs),
            timedelta(days=settings.unreported_within_days))
        #: Transcripts and summaries (`salon.transcription.files.storage_for_deployment`).
        self.storage = local_storage
        #: Wakes the webhook dispatcher after a commit that queued deliveries.
        self.on_commit = on_commit or (lambda: None)
        self._pool: ProcessPoolExecutor | None = None
        #: ("transcript" | "summary", session id) → its running job.
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Re-run what a crash (or a stop) left PROCESSING; in a cluster, keep taking
        over the jobs of nodes that are gone."""
        await self._take_over(starting=True)
        if self.claims.clustered:
            self._sweeper = asyncio.create_task(self._sweep_forever(),
                                                name="post-meeting jobs takeover")
        self._adopter = asyncio.create_task(
            transcribe_forever(self.unreported, self.transcribe,
                               self.settings.unreported_sweep_secs),
            name="unreported captures")

    async def stop(self) -> None:
        """Server going away: stop every job; they stay PROCESSING and the next start
        (or, in a cluster, another node) runs them again from the start."""
        for loop in (self._sweeper, self._adopter):
            if loop is not None:
                loop.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await loop
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._close_pool()

    def running(self) -> int:
        """Jobs queued or running in this process."""
        return sum(not task.done() for task in self._tasks.values())

    # --- taking over ---------------------------------------------------------------------

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.claims.sweep_secs)
            try:
                await self._take_over(starting=False)
            except Exception:
                log.exception("taking over post-meeting jobs failed")

    async def _take_over(self, starting: bool) -> None:
        """Release the PROCESSING jobs nobody holds (`JobClaims.orphaned`), then claim
        and run every unclaimed one this node can run."""
        jobs = (("transcript", SessionTranscript, self._transcript_job),
                ("summary", SessionSummary, self._summary_job))
        taken = []
        for kind, model, job in jobs:
            mine = {sid for (k, sid) in self._tasks if k == kind and self._busy(k, sid)}
            orphaned = await self.claims.orphaned(model, model.session_id, mine,
                                                  starting=starting)
            async with self.database.session() as db:
                if orphaned is not None:
                    await self.claims.release(db, model, orphaned,
                                              model.status == "PROCESSING")
                waiting = list(await db.scalars(select(model.session_id).where(
                    model.status == "PROCESSING", model.claimed_at.is_(None))))
                for session_id in waiting:
                    if kind == "transcript" and not await self._can_read_capture(db, session_id):
                        continue
                    if await self.claims.claim(db, model, model.session_id, session_id,
                                               model.status == "PROCESSING"):
                        self._spawn(kind, session_id, job(session_id))
                        taken.append(kind)
        if taken:
            log.warning("running %d transcript(s) and %d summary(ies) left PROCESSING",
                        taken.count("transcript"), taken.count("summary"))

    async def _can_read_capture(self, db: Any, session_id: str) -> bool:
        """One node: always (a missing capture fails the job, as it should). A cluster:
        only where the capture directory is, else a node that has it takes the job."""
        if not self.claims.clustered:
            return True
        row = await transcripts.transcript_of(db, session_id)
        return row is not None and await asyncio.to_thread(Path(row.capture_dir).is_dir)

    # --- the public calls ----------------------------------------------------------------

    async def transcribe(self, app_id: str, meeting_id: str, session_id: str,
                         capture_dir: Path) -> None:
        """Queue the transcript of an ended session from its capture directory (the
        live transcriber's contract, `salon.transcription.segments`); returns at once.

        Called again for the same session: a no-op while its transcript is
        PROCESSING here, else the transcript is made again from `capture_dir`.
        """
        if self._busy("transcript", session_id):
            return
        async with self.database.session() as db:
            session = await db.get(Session, session_id)
            meeting = await db.get(Meeting, meeting_id)
            if session is None or meeting is None or session.app_id != app_id \
                    or meeting.app_id != app_id or session.meeting_id != meeting_id:
                raise NotFound(f"Session {session_id} of meeting {meeting_id} not found.")
            options = dict((meeting.ai_config or {}).get("transcription") or {})
            now = utcnow()
            row = await transcripts.transcript_of(db, session_id)
            if row is not None and row.status == "PROCESSING" and \
                    row.claimed_at is not None and not self.claims.holds(row):
                return  # another node runs it (and if it dies, it is taken over)
            if row is None:
                row = SessionTranscript(id=new_uuid(), app_id=app_id, meeting_id=meeting_id,
                                        session_id=session_id, created_at=now)
                db.add(row)
            row.status, row.error, row.files, row.line_count = "PROCESSING", None, None, None
            row.capture_dir, row.options = str(capture_dir), options
            row.updated_at, row.completed_at = now, None
            row.claimed_by, row.claimed_at = self.claims.node_id, now
            try:
                await db.commit()
            except IntegrityError:  # a concurrent call made the row first: that one runs
                return
        self._spawn("transcript", session_id, self._transcript_job(session_id))

    async def summarize(self, app_id: str, session_id: str) -> SummaryRow:
        """Queue the summary of a session whose transcript is READY (`POST …/summary`,
        `summarize_on_end`), with the meeting's `ai_config.summarization` as it is now.

        404 for an unknown session (or another app's); 409 when its transcript is not
        READY. A summary already PROCESSING is answered as it is, not started twice; a
        READY or FAILED one is made again.
        """
        async with self.database.session() as db:
            session = await transcripts.session_of(db, app_id, session_id)
            transcript = await transcripts.transcript_of(db, session_id)
            if transcript is None or transcript.status != "READY":
                raise Conflict(transcripts.missing("transcript", session, transcript)
                               + " A summary needs a READY transcript.")
            row = await transcripts.summary_of(db, session_id)
            if row is not None and row.status == "PROCESSING" and (
                    self._busy("summary", session_id)
                    or (row.claimed_at is not None and not self.claims.holds(row))):
                return row
            meeting = await db.get(Meeting, session.meeting_id)
            assert meeting is not None
            row = await summary_job.queue(db, session, meeting, row, self.claims.node_id)
        self._spawn("summary", session_id, self._summary_job(session_id))
        return row

    # --- transcripts ---------------------------------------------------------------------

    async def _transcript_job(self, session_id: str) -> None:
        try:
            result = await self._run_worker(session_id)
            if result is None:
                return
            summarize = await self._finish_transcript(session_id, result)
        except asyncio.CancelledError:
            raise
        except TranscriptionFailed as error:
            await self._fail_transcript(session_id, str(error))
            return
        except Exception as error:  # noqa: BLE001 - a job must end READY or FAILED
            log.exception("transcribing session %s failed", session_id)
            await self._fail_transcript(session_id, f"{type(error).__name__}: {error}")
            return
        if summarize:  # queued with the transcript's READY
            self._spawn("summary", session_id, self._summary_job(session_id))

    async def _run_worker(self, session_id: str) -> WorkResult | None:
        async with self.database.session() as db:
            row = await transcripts.transcript_of(db, session_id)
            session = await db.get(Session, session_id)
            if row is None or session is None or row.status != "PROCESSING" \
                    or not self.claims.holds(row):  # taken over by another node meanwhile
                return None
            options = row.options or {}
            request = WorkRequest(
                capture_dir=Path(row.capture_dir), out_dir=self.settings.out_dir(session_id),
                session_started_at=session.started_at,
                language=str(options.get("language") or "en-US"),
                keywords=tuple(str(k) for k in options.get("keywords") or ()),
                profanity_filter=bool(options.get("profanity_filter")),
                model_path=self.settings.model_path, cpu_threads=self.settings.cpu_threads)
        return await self._work(session_id, request)

    async def _work(self, session_id: str, request: WorkRequest) -> WorkResult:
        """`request` in a worker process."""
        loop = asyncio.get_running_loop()
        for attempt in range(1, POOL_ATTEMPTS + 1):
            pool = self._executor()
            try:
                return await loop.run_in_executor(pool, transcribe_capture, request)
            except BrokenProcessPool:
                # One worker dying breaks the whole pool, and with it every job waiting
                # in it: each is run once more on a fresh pool (the job that killed it
                # most likely kills that one too, and then fails for good).
                self._close_pool(pool)
                if attempt < POOL_ATTEMPTS:
                    log.warning("transcribing session %s: a worker process died; "
                                "running it again on a fresh pool", session_id)
        raise TranscriptionFailed("the transcription worker process died (out of memory, "
                                  "or killed)")

    async def _finish_transcript(self, session_id: str, result: WorkResult) -> bool:
        """Store the files; READY, `meeting.transcript` and (with `summarize_on_end`) the
        summary queued, in one commit. Returns whether a summary was queued."""
        stored = {fmt: await self.storage.put(path, files.transcript_key(session_id, fmt),
                                              files.CONTENT_TYPES[fmt])
                  for fmt, path in result.files.items()}
        async with self.database.session() as db:
            row = await transcripts.transcript_of(db, session_id)
            if row is None:  # the session was deleted meanwhile
                return False
            if row.status != "PROCESSING" or not self.claims.holds(row):
                # Another node took the job over while this one ran (cut off from the
                # cluster, say): its run is the one that counts; this one leaves the
                # row, the webhook and the capture alone.
                log.warning("transcript of session %s: the job was taken over by another "
                            "node while it ran here; its result here is dropped",
                            session_id)
                return False
            now = utcnow()
            row.status, row.error, row.line_count = "READY", None, result.line_count
            row.files = {fmt: files.to_json(file) for fmt, file in stored.items()}
            row.updated_at = row.completed_at = now
            url, expiry = await self.storage.download_url(stored["csv"], self.settings.link_ttl)
            queued = await outbox.enqueue(db, row.app_id, payloads.meeting_transcript(
                await transcripts.webhook_meeting(db, session_id),
                transcript_download_url=url, transcript_download_url_expiry=expiry))
            meeting = await db.get(Meeting, row.meeting_id)
            session = await db.get(Session, session_id)
            summarize = bool(meeting is not None and session is not None
                             and meeting.summarize_on_end)
            if summarize:  # queued in the same commit: a crash after it loses no summary
                summary_job.prepare(db, session, meeting,  # type: ignore[arg-type]
                                    await transcripts.summary_of(db, session_id),
                                    self.claims.node_id)
            capture_dir = Path(row.capture_dir)
            await db.commit()
        self._committed(queued)
        log.info("session %s transcribed: %d lines from %d file(s)", session_id,
                 result.line_count, result.tracks)
        await asyncio.to_thread(self._clean_up, session_id, capture_dir)
        return summarize

    async def _fail_transcript(self, session_id: str, reason: str) -> None:
        log.warning("transcript of session %s FAILED: %s", session_id, reason)
        with contextlib.suppress(Exception):  # the row may be gone with its session
            async with self.database.session() as db:
                row = await transcripts.transcript_of(db, session_id)
                if row is not None and row.status == "PROCESSING":
                    row.status, row.error = "FAILED", reason[:2000]
                    row.updated_at = row.completed_at = utcnow()
                    await db.commit()
        await asyncio.to_thread(shutil.rmtree, self.settings.out_dir(session_id), True)

    def _clean_up(self, session_id: str, capture_dir: Path) -> None:
        shutil.rmtree(self.settings.out_dir(session_id), ignore_errors=True)
        if self.settings.keep_audio or not capture_dir.is_dir():
            return
        # Only what the capture contract puts there: a directory handed over by mistake
        # (or shared with something else) loses nothing else.
        for path in capture_dir.iterdir():
            if path.is_file() and is_captured_file(path):
                with contextlib.suppress(OSError):
                    path.unlink()
        with contextlib.suppress(OSError):  # not empty: something else lives there
            capture_dir.rmdir()

    # --- summaries -----------------------------------------------------------------------

    async def _summary_job(self, session_id: str) -> None:
        try:
            queued = await summary_job.make(self.database, self.storage, self.settings,
                                            session_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a job must end READY or FAILED
            log.exception("summarizing session %s failed", session_id)
            await summary_job.fail(self.database, session_id,
                                   f"{type(error).__name__}: {error}")
            return
        self._committed(queued)

    # --- plumbing ------------------------------------------------------------------------

    def _busy(self, kind: str, session_id: str) -> bool:
        task = self._tasks.get((kind, session_id))
        return task is not None and not task.done()

    def _spawn(self, kind: str, session_id: str,
               job: Coroutine[Any, Any, None]) -> None:
        if self._busy(kind, session_id):
            job.close()
            return
        task = asyncio.create_task(job, name=f"{kind} of session {session_id}")
        self._tasks[(kind, session_id)] = task
        task.add_done_callback(lambda done, key=(kind, session_id): self._forget(key, done))

    def _forget(self, key: tuple[str, str], task: asyncio.Task[None]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]

    def _executor(self) -> ProcessPoolExecutor:
        # Spawned, never forked: the parent is an asyncio server with threads and sockets.
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.settings.workers,
                                             mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_worker_started)
        return self._pool

    def _close_pool(self, broken: ProcessPoolExecutor | None = None) -> None:
        """Stop the workers now: a transcription may run for minutes, and its job is
        re-run at the next start anyway. With `broken`, only if that is still the pool
        (a job that learns late of a broken pool must not close the fresh one)."""
        if broken is not None and self._pool is not broken:
            return
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            with contextlib.suppress(Exception):
                process.terminate()

    def _committed(self, queued: int) -> None:
        if queued:
            self.on_commit()


def _worker_started() -> None:
    """A transcription worker process starts: below the server in CPU priority, and
    logging as the server does (format, level, secrets masked)."""
    yield_cpu_to_the_server()
    configure_from_env()
