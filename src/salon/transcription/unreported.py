"""Captures that nobody reported: the transcript of a session whose server died.

The live transcriber reports a session's capture to the post-meeting jobs when the
session ends (`salon.live.transcribers`), and only then does the transcript have a row
(`SessionTranscript`) that a restart runs again. A server killed during the session, or
in the half minute between its end and the report (the transcriber lingers to finish
its files), left the voices on disk and no row: that meeting never got its transcript.

So the jobs look, at start and then every `JobSettings.unreported_sweep_secs`, for
capture directories (`capture_root`) of sessions that have ended at least
`unreported_after_secs` ago (and at most `unreported_within_days`: a capture left from
long ago, say before an upgrade, is not transcribed and announced by webhook now) and
have no transcript row, and transcribe them as if the transcriber had reported them. The wait leaves every transcriber that is still
finishing (45 s at most after the end) the time to report its own capture; a session
still live (or carried on by another node) is never taken. In a cluster each node sees
the captures of its own data directory (all of them, when it is shared): two nodes that
find the same one race on creating its row, and the one that loses leaves it to the
other (`PostMeetingJobs.transcribe`).
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from salon.core.clock import utcnow
from salon.store.database import Database
from salon.store.models import Session, SessionTranscript
from salon.transcription.capture import capture_root

log = logging.getLogger("salon.transcription")

#: Session ids asked about in one query (SQLite bounds the parameters of a statement).
BATCH = 500


@dataclass(frozen=True)
class Unreported:
    """A capture to transcribe: what `PostMeetingJobs.transcribe` takes."""

    app_id: str
    meeting_id: str
    session_id: str
    capture_dir: Path


class UnreportedCaptures:
    """Finds the captures no transcriber reported, of sessions that ended between
    `within` and `after` ago. It remembers the directories it is done with (a transcript
    row exists, the session does not, or it ended too long ago), so that each is asked
    about once, not at every sweep (with `SALON_TRANSCRIPTION_KEEP_AUDIO` every capture
    stays)."""

    def __init__(self, database: Database, data_dir: Path, after: timedelta,
                 within: timedelta) -> None:
        self.database = database
        self.root = capture_root(data_dir)
        self.after = after
        self.within = within
        self._settled: set[str] = set()

    async def find(self, now: datetime) -> list[Unreported]:
        names = await asyncio.to_thread(_session_dirs, self.root)
        waiting = [name for name in names if name not in self._settled]
        found: list[Unreported] = []
        for batch in _batches(waiting):
            async with self.database.session() as db:
                reported = set(await db.scalars(select(SessionTranscript.session_id).where(
                    SessionTranscript.session_id.in_(batch))))
                sessions = {row.id: row for row in (await db.execute(
                    select(Session.id, Session.app_id, Session.meeting_id, Session.ended_at)
                    .where(Session.id.in_(batch)))).all()}
            for name in batch:
                session = sessions.get(name)
                if name in reported or session is None or (
                        session.ended_at is not None
                        and session.ended_at < now - self.within):
                    self._settled.add(name)
                elif session.ended_at is not None and session.ended_at <= now - self.after:
                    found.append(Unreported(session.app_id, session.meeting_id, name,
                                            self.root / name))
        return found


async def transcribe_forever(captures: UnreportedCaptures,
                             transcribe: Callable[[str, str, str, Path], Awaitable[None]],
                             every_secs: float) -> None:
    """Hand each capture `captures` finds to `transcribe` (`PostMeetingJobs.transcribe`),
    now and every `every_secs`. A capture that cannot be handed over (the database does
    not answer, say) is tried again at the next look, and told once."""
    failing: set[str] = set()
    finding_failed = False
    while True:
        try:
            found = await captures.find(utcnow())
            finding_failed = False
        except Exception:
            if not finding_failed:
                log.exception("looking for unreported captures failed (told once until "
                              "it works again)")
            finding_failed, found = True, []
        for capture in found:
            if capture.session_id not in failing:
                log.warning("session %s has been over for %s or more and its capture was "
                            "never reported (the server stopped meanwhile?): transcribing it",
                            capture.session_id, captures.after)
            try:
                await transcribe(capture.app_id, capture.meeting_id, capture.session_id,
                                 capture.capture_dir)
                failing.discard(capture.session_id)
            except Exception:
                if capture.session_id not in failing:
                    log.exception("the unreported capture of session %s could not be "
                                  "queued; trying again every %s s", capture.session_id,
                                  every_secs)
                failing.add(capture.session_id)
        await asyncio.sleep(every_secs)


def _session_dirs(root: Path) -> list[str]:
    """The names under `root` that are session directories (a session id is a UUID;
    anything else there is not a transcriber's)."""
    if not root.is_dir():
        return []
    return sorted(path.name for path in root.iterdir()
                  if path.is_dir() and _is_uuid(path.name))


def _is_uuid(name: str) -> bool:
    try:
        return str(uuid.UUID(name)) == name
    except ValueError:
        return False


def _batches(items: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]
